/**
 * The errors of the limits: GraphQL errors with `extensions.code` and the HTTP
 * status Yoga answers with (`extensions.http`, which Yoga keeps from clients).
 * Built here, not thrown as ClientError, because most are raised outside
 * execution (request parsing, document parsing, validation).
 */
import { GraphQLError } from 'graphql'
import { createGraphQLError } from 'graphql-yoga'

/** A document over a limit checked before execution (tokens, depth, aliases, directives, nesting, cost): HTTP 400. */
export function queryTooComplex(message: string, details: Record<string, unknown> = {}): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...details, http: { status: 400 } } })
}

/** A request refused before it is read as GraphQL (too large): `status` is its HTTP status (413 for size). */
export function badRequest(message: string, status = 400): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status } } })
}

/** True for V8's "Maximum call stack size exceeded": recursion over a document nested too deeply. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message)
}

/** The same error without `extensions.http`, which means something to HTTP only (graphql-ws sends extensions as they are). */
export function withoutHttpStatus(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error
  const { http: _http, ...extensions } = error.extensions
  return createGraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions })
}

/** True for an error raised by a limit (QUERY_TOO_COMPLEX or BAD_REQUEST). */
export function isLimitError(error: unknown): boolean {
  const code = error instanceof GraphQLError ? error.extensions.code : undefined
  return code === 'QUERY_TOO_COMPLEX' || code === 'BAD_REQUEST'
}
