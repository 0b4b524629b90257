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
 * during execution): the same graphql-js rule and the same masking, applied on both.
 */
import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core'
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql'
import type { GraphQLContext } from './context.ts'

export const INTROSPECTION_NEEDS_SIGN_IN = 'Introspection is for signed-in clients: send `Authorization: Bearer <token>`'

const SUGGESTION = /\s*Did you mean [^?]*\?/g

/** The message without its "Did you mean ...?" hints. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '')
}

function maskSuggestions<E extends Error>(error: E): E | GraphQLError {
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
  onRequestParse(payload: { request: Request }): Promise<void>
} {
  const anonymousRequests = new WeakSet<Request>()
  // Fail closed: a context that says nothing about its viewer is anonymous.
  const anonymousAtValidation = (context: InitialContext) => (context.request ? anonymousRequests.has(context.request) : !context.userId)
  const maskResult = ({ result, setResult }: { result: { errors?: readonly GraphQLError[] }; setResult: (result: never) => void }) => {
    if (result.errors?.length) setResult({ ...result, errors: result.errors.map(maskSuggestions) } as never)
  }
  return {
    async onRequestParse({ request }) {
      if ((await userIdOfRequest(request)) === null) anonymousRequests.add(request)
    },
    onValidate({ context, addValidationRule }) {
      if (!anonymousAtValidation(context as InitialContext)) return
      addValidationRule(introspectionNeedsSignIn)
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(maskSuggestions))
      }
    },
    // Variable values are checked during execution ("Value "X" does not exist in "Enum" enum. Did you mean ...").
    onExecute({ args }) {
      if (args.contextValue.userId) return
      return { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, maskResult) }
    },
    onSubscribe({ args }) {
      if (args.contextValue.userId) return
      return { onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, maskResult) }
    },
  }
}
