/**
 * Introspection for partner credentials (issue 16): an API key or an OAuth token may read `__schema` and
 * `__type` only with the scope `schema:introspect`, on every transport and in every environment; without
 * it the document is refused at validation with FORBIDDEN and `extensions.scope` (`__typename` stays
 * free), and validation errors lose their "Did you mean" hints (they would list fields by another way). A user's own session keeps introspection (GraphiQL, the web client's tooling), and anonymous
 * clients keep what they had: introspection outside production, none in production (anonymous-surface.ts).
 *
 * Like the anonymous guard: over HTTP (GET, POST, SSE) the credential is read when Yoga parses the request,
 * before validation; over graphql-ws the socket's `onSubscribe` builds the context first, so the rule reads
 * `credential` from it (websocket.ts).
 */
import type { Plugin } from '@envelop/core'
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql'
import type { Credential } from '../auth/authenticate.ts'
import { forbiddenScopeMessage, grants } from '../auth/scopes.ts'
import { maskSuggestions } from './anonymous-surface.ts'
import type { GraphQLContext } from './context.ts'

const SCOPE = 'schema:introspect' as const

/** Whether `credential` may introspect: anonymous (left to the production guard) and sessions may; a partner needs the scope. */
export function mayIntrospect(credential: Credential | null | undefined): boolean {
  return !credential || grants(credential.scopes, SCOPE)
}

/** graphql-js's introspection rule, its errors FORBIDDEN naming the scope (a name of its own: Yoga's validation cache keys on rule names). */
const introspectionNeedsScope: ValidationRule = (context) =>
  NoSchemaIntrospectionCustomRule(
    Object.assign(Object.create(context) as ValidationContext, {
      reportError: (error: GraphQLError) =>
        context.reportError(new GraphQLError(forbiddenScopeMessage(SCOPE), { nodes: error.nodes, extensions: { code: 'FORBIDDEN', scope: SCOPE } })),
    }),
  )

/**
 * The envelop/Yoga plugin. `credentialOfRequest` gives the credential of a request's token (memoize it per
 * request: the context asks too).
 */
export function useIntrospectionScope({ credentialOfRequest }: { credentialOfRequest: (request: Request) => Promise<Credential | null> }): Plugin<GraphQLContext> & {
  onRequestParse(payload: { request: Request }): Promise<void> | void
} {
  const refused = new WeakSet<Request>()
  return {
    onRequestParse({ request }) {
      // No Authorization header: no credential, no lookup.
      if (!request.headers.has('authorization')) return
      return credentialOfRequest(request).then((credential) => {
        if (!mayIntrospect(credential)) refused.add(request)
      })
    },
    onValidate({ context, addValidationRule }) {
      const { request, credential } = context as { request?: Request; credential?: Credential | null }
      if (!(request ? refused.has(request) : !mayIntrospect(credential))) return
      addValidationRule(introspectionNeedsScope)
      // "Did you mean …?" hints name fields the credential may not list by introspection: cut, as for anonymous clients.
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(maskSuggestions))
      }
    },
  }
}
