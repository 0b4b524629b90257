/**
 * Production's surface for anonymous clients: no introspection, and no "Did you
 * mean" hints in error messages (they spell the schema out field by field). A
 * signed-in client keeps both. One plugin for every transport: over HTTP (GET,
 * POST, SSE) the viewer is looked up when Yoga parses the request, before
 * validation; over graphql-ws, where Yoga's request hooks do not run, the
 * socket's `onSubscribe` builds the context before validating, so the rule reads
 * `userId` from it (see websocket.ts).
 *
 * Not `@graphql-yoga/plugin-disable-introspection` (its per-request flag is set
 * only by a Yoga request hook, so it never applies over graphql-ws) nor
 * graphql-armor's block-field-suggestions (its pattern misses enum-value hints,
 * "Did you mean the enum value ...?", and it does not see variable errors raised
 * during execution): graphql-js's own rule, and one masking, applied here to
 * validation errors and by `useClientErrors` to execution errors, on both transports.
 */
import type { Plugin } from '@envelop/core'
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql'
import type { GraphQLContext } from './context.ts'

export const INTROSPECTION_NEEDS_SIGN_IN = 'Introspection is for signed-in clients: send `Authorization: Bearer <token>`'

const SUGGESTION = /\s*Did you mean [^?]*\?/g

/** The message without its "Did you mean ...?" hints. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '')
}

/**
 * The error without "Did you mean" hints. Errors raised while executing (variable values:
 * "Value "X" does not exist in "Enum" enum. Did you mean ...") are masked by `useClientErrors`,
 * which already walks every result's errors.
 */
export function maskSuggestions<E extends Error>(error: E): E | GraphQLError {
  const message = withoutSuggestions(error.message)
  if (message === error.message || !(error instanceof GraphQLError)) return error
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  })
}

/** graphql-js's own introspection rule, its errors carrying `UNAUTHENTICATED`. */
const introspectionNeedsSignIn: ValidationRule = (context) =>
  NoSchemaIntrospectionCustomRule(
    Object.assign(Object.create(context) as ValidationContext, {
      reportError: (error: GraphQLError) =>
        context.reportError(new GraphQLError(INTROSPECTION_NEEDS_SIGN_IN, { nodes: error.nodes, extensions: { code: 'UNAUTHENTICATED' } })),
    }),
  )

/** What the plugin reads of the initial context: Yoga's request (HTTP), or the built context (graphql-ws). */
interface InitialContext {
  request?: Request
  userId?: string | null
}

/**
 * The envelop/Yoga plugin. `userIdOfRequest` gives the user a request's token
 * names, null when anonymous (memoize it per request: the context asks too).
 */
export function useAnonymousSurfaceGuard({ userIdOfRequest }: { userIdOfRequest: (request: Request) => Promise<string | null> }): Plugin<GraphQLContext> & {
  onRequestParse(payload: { request: Request }): Promise<void> | void
} {
  const anonymousRequests = new WeakSet<Request>()
  // Fail closed: a context that says nothing about its viewer is anonymous.
  const anonymousAtValidation = (context: InitialContext) => (context.request ? anonymousRequests.has(context.request) : !context.userId)
  return {
    onRequestParse({ request }) {
      // No Authorization header: anonymous without a lookup (and without a promise on the hot path).
      if (!request.headers.has('authorization')) return void anonymousRequests.add(request)
      return userIdOfRequest(request).then((userId) => {
        if (userId === null) anonymousRequests.add(request)
      })
    },
    onValidate({ context, addValidationRule }) {
      if (!anonymousAtValidation(context as InitialContext)) return
      // Always, even for a document without `__schema`: Yoga's validation cache keys its entries
      // by the rules' names, so anonymous results (hints cut) never answer a signed-in client,
      // and a signed-in client's valid introspection never answers an anonymous one.
      addValidationRule(introspectionNeedsSignIn)
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(maskSuggestions))
      }
    },
  }
}
