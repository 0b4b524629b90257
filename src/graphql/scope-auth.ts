/**
 * What the schema's auth scopes mean (@pothos/plugin-scope-auth, wired in builder.ts), and the
 * errors of a refusal. A field declares one of:
 *
 * - `authenticated: true`: any credential (session, API key, OAuth token) of a user;
 * - `scope: 'contacts:read'` (…): a session, or a partner credential granted that scope;
 * - `session: true`: the user's own session only (key and app management, connected accounts):
 *   a partner credential can never do it, whatever its scopes.
 *
 * Anonymous: UNAUTHENTICATED, as before scopes. A credential short of the field's scope: FORBIDDEN
 * with `extensions.scope` naming it (`extensions.requires: 'session'` for session-only fields), for
 * that field only: the rest of the answer arrives.
 */
import { isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql'
import { AuthScopeFailureType, type AuthFailure, type ForbiddenResult } from '@pothos/plugin-scope-auth'
import { isSessionCredential } from '../auth/authenticate.ts'
import { forbiddenScopeMessage, grants, type Scope } from '../auth/scopes.ts'
import { ClientError } from '../errors.ts'
import { UNAUTHENTICATED_MESSAGE, type GraphQLContext } from './context.ts'

/** The auth scopes of the schema (builder.ts `AuthScopes`). */
export interface AuthScopes {
  authenticated: boolean
  scope: Scope
  session: boolean
}

/** What a field or a node type needs: a scope, the user's own session, or any credential. */
export type Requirement = { scope: Scope } | { session: true } | { authenticated: true }

/** A context without a credential but with a user (a test that builds one by hand) counts as a session. */
const scopesOf = (context: GraphQLContext) => (context.credential ? context.credential.scopes : null)
const isSession = (context: GraphQLContext) => context.userId !== null && (!context.credential || isSessionCredential(context.credential))

/** The scope loader: what this request's credential may do. */
export function authScopesOf(context: GraphQLContext) {
  const authenticated = context.userId !== null
  return {
    authenticated,
    scope: (needed: Scope) => authenticated && grants(scopesOf(context), needed),
    session: isSession(context),
  }
}

/**
 * Whose suggestions this request may name by id (suggestion-status.ts `SuggestionReach`): a session or a
 * credential with contacts:read any contact's; otherwise, reading (`node`), only the stored ones, and acting
 * (the suggestions:write mutations), those of the contacts the stream may suggest. A suggestion's answer
 * carries its contact: without contacts:read, a contact id alone must not read an arbitrary contact.
 */
export function suggestionReachOf(context: GraphQLContext, use: 'read'): 'any' | 'stored'
export function suggestionReachOf(context: GraphQLContext, use: 'write'): 'any' | 'suggestable'
export function suggestionReachOf(context: GraphQLContext, use: 'read' | 'write'): 'any' | 'stored' | 'suggestable' {
  if (authScopesOf(context).scope('contacts:read')) return 'any'
  return use === 'read' ? 'stored' : 'suggestable'
}

/** The message of a FORBIDDEN for a session-only field. */
export const SESSION_ONLY_MESSAGE = "Only the user's own session can do this: API keys and connected apps cannot"

/** FORBIDDEN for a credential without `scope`, naming it in `extensions.scope`. */
export function forbiddenScope(scope: Scope): ClientError {
  return new ClientError('FORBIDDEN', forbiddenScopeMessage(scope), { scope })
}

/** FORBIDDEN for a partner credential on a session-only field (`extensions.requires: 'session'`). */
export function sessionOnly(): ClientError {
  return new ClientError('FORBIDDEN', SESSION_ONLY_MESSAGE, { requires: 'session' })
}

/** The first scope-or-session failure in a failure tree (scopes combined with $any / $all included). */
function firstFailure(failure: AuthFailure): { scope: Scope } | { session: true } | undefined {
  if (failure.kind === AuthScopeFailureType.AuthScope) {
    if (failure.scope === 'scope') return { scope: failure.parameter as Scope }
    if (failure.scope === 'session') return { session: true }
    return undefined
  }
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    for (const inner of failure.failures) {
      const found = firstFailure(inner)
      if (found) return found
    }
  }
  return undefined
}

/** The plugin's `unauthorizedError`: UNAUTHENTICATED when anonymous, else FORBIDDEN naming what is missing. */
export function unauthorizedError(context: GraphQLContext, result: ForbiddenResult): ClientError {
  if (context.userId === null) return new ClientError('UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE)
  const missing = firstFailure(result.failure)
  if (missing && 'scope' in missing) return forbiddenScope(missing.scope)
  if (missing) return sessionOnly()
  return new ClientError('FORBIDDEN', result.message)
}

/**
 * What reading each node type through `node(id)` needs. A type not listed here (one added later)
 * is the user's own session's only, until it is listed: new types fail closed.
 */
export const NODE_REQUIREMENTS: Readonly<Record<string, Requirement>> = {
  User: { authenticated: true },
  Contact: { scope: 'contacts:read' },
  Group: { scope: 'contacts:read' },
  Suggestion: { scope: 'suggestions:read' },
  Import: { scope: 'imports:write' },
  Account: { session: true },
  AuthToken: { session: true },
  ApiKey: { session: true },
  WebhookEndpoint: { scope: 'webhooks:manage' },
  WebhookDelivery: { scope: 'webhooks:manage' },
}

/**
 * Checks what reading a node of `typename` needs against the request's credential.
 *
 * @throws ClientError FORBIDDEN naming the scope (or session) the type needs.
 */
export function assertNodeAllowed(context: GraphQLContext, typename: string): void {
  const requirement: Requirement = Object.hasOwn(NODE_REQUIREMENTS, typename) ? NODE_REQUIREMENTS[typename]! : { session: true }
  const allowed = authScopesOf(context)
  if ('scope' in requirement && !allowed.scope(requirement.scope)) throw forbiddenScope(requirement.scope)
  if ('session' in requirement && !allowed.session) throw sessionOnly()
}

/** What a field of the built schema declares (`authScopes` of its Pothos options), or undefined. */
export function fieldAuthScopes(field: GraphQLField<unknown, unknown>): Partial<AuthScopes> | undefined {
  const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions
  const scopes = options?.authScopes
  return scopes && typeof scopes === 'object' ? (scopes as Partial<AuthScopes>) : undefined
}

/** The sentence a field's description gets for what it needs (partners read it in GraphiQL and the SDL). */
export function requirementSentence(scopes: Partial<AuthScopes>): string | undefined {
  if (scopes.scope) return `Scope: ${scopes.scope}.`
  if (scopes.session) return "The user's own session only: API keys and connected apps get FORBIDDEN."
  return undefined
}

/**
 * Appends to the description of every field that needs a scope or a session what it needs, so the
 * SDL, introspection and GraphiQL document it next to the field. Changes `schema` in place, once.
 */
export function describeRequirements(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue
    for (const field of Object.values(type.getFields())) {
      const scopes = fieldAuthScopes(field)
      const sentence = scopes && requirementSentence(scopes)
      if (sentence && !field.description?.endsWith(sentence)) field.description = field.description ? `${field.description} ${sentence}` : sentence
    }
  }
  return schema
}
