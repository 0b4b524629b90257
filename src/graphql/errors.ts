/**
 * One error vocabulary: a {@link ClientError} becomes a GraphQL error with its
 * `extensions.code`; anything else is logged with the request id and masked
 * (no message, stack or SQL reaches the client).
 */
import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core'
import { PothosSchemaError, PothosValidationError } from '@pothos/core'
import { GraphQLError } from 'graphql'
import { createGraphQLError } from 'graphql-yoga'
import { ClientError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { GraphQLContext } from './context.ts'

export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.'

function coded(error: GraphQLError | undefined, clientError: ClientError): GraphQLError {
  return createGraphQLError(clientError.message, {
    nodes: error?.nodes,
    path: error?.path,
    extensions: { code: clientError.code, ...clientError.details },
  })
}

function masked(error: GraphQLError | undefined, requestId: string | undefined): GraphQLError {
  return createGraphQLError(UNEXPECTED_ERROR_MESSAGE, {
    nodes: error?.nodes,
    path: error?.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  })
}

/** The client-facing form of a known error, or undefined for an unexpected one. */
function known(error: GraphQLError | undefined, original: unknown): GraphQLError | undefined {
  if (original instanceof ClientError) return coded(error, original)
  // Pothos rejects malformed input (e.g. an undecodable global ID) with a validation error.
  if (original instanceof PothosValidationError) return coded(error, new ClientError('BAD_USER_INPUT', original.message))
  // GraphQL's own errors (syntax, validation, variable coercion) are meant for the client;
  // a Pothos schema error is a bug of ours.
  if (!error || original instanceof PothosSchemaError || !(original == null || original instanceof GraphQLError)) return undefined
  if (error.extensions.code !== undefined) return error
  // graphql-js rejects a variable of the wrong type without a code: it is the client's input.
  return createGraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } })
}

/** What the client may see of an error raised while executing. */
export function toClientError(error: GraphQLError, context: Partial<GraphQLContext>, logger: Logger): GraphQLError {
  const original = error.originalError
  const visible = known(error, original)
  if (visible) return visible
  ;(context.logger ?? logger).error({ err: original, requestId: context.requestId, path: error.path }, 'unexpected error')
  return masked(error, context.requestId)
}

/** Envelop plugin applying {@link toClientError} to every query, mutation and subscription result. */
export function useClientErrors(logger: Logger): Plugin<GraphQLContext> {
  const hook =
    (context: Partial<GraphQLContext>) =>
    ({ result, setResult }: { result: { errors?: readonly GraphQLError[] }; setResult: (result: never) => void }) => {
      if (!result.errors?.length) return
      setResult({ ...result, errors: result.errors.map((error) => toClientError(error, context, logger)) } as never)
    }
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, hook(args.contextValue)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, hook(args.contextValue)),
    }),
  }
}

/** Yoga's last line: errors raised outside execution (e.g. while building the context). */
export function maskError(logger: Logger) {
  return (error: unknown): Error => {
    const graphQLError = error instanceof GraphQLError ? error : undefined
    const original = graphQLError ? graphQLError.originalError : error
    const visible = known(graphQLError, original)
    if (visible) return visible
    logger.error({ err: original }, 'unexpected error')
    return masked(graphQLError, undefined)
  }
}
