/**
 * Errors in the server's vocabulary: every `extensions.code` the API sends, and the
 * few codes the client gives transport failures. One {@link ApiError} whatever the
 * path (a query or mutation through urql, the subscription over graphql-ws).
 */
import type { CombinedError } from '@urql/core'

/**
 * The `extensions.code` values the server sends: its `ClientErrorCode` (src/errors.ts;
 * `test/error-codes.test.ts` fails the typecheck when one is missing here), the masked
 * `INTERNAL_SERVER_ERROR` (src/graphql/errors.ts), Yoga's parse and validation codes and the trusted documents' (src/graphql/trusted-documents.ts).
 */
export const SERVER_ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'MEMORY_PRESSURE',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'BAD_REQUEST',
  'TIMEOUT',
  'QUOTA_EXCEEDED',
  'INTERNAL_SERVER_ERROR',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_ONLY',
] as const

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number]

/**
 * Codes the client names itself: `NETWORK` (no answer, or one without data),
 * `CLOSED` (the socket closed), `FORBIDDEN_TOKEN` (the socket closed with 4403),
 * `UNKNOWN` (an error without a code, or with one this client does not know).
 */
export type TransportErrorCode = 'NETWORK' | 'CLOSED' | 'FORBIDDEN_TOKEN' | 'UNKNOWN'

export type ApiErrorCode = ServerErrorCode | TransportErrorCode

const serverCodes: ReadonlySet<string> = new Set(SERVER_ERROR_CODES)

/** Why a request or a stream failed, in the server's error vocabulary. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: ApiErrorCode,
    /** RATE_LIMITED tells when to come back (seconds). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  /** The token is missing, unknown or revoked: sign in again. */
  get unauthorized(): boolean {
    return this.code === 'UNAUTHENTICATED' || this.code === 'FORBIDDEN_TOKEN'
  }
}

/** A GraphQL error as it comes over the wire. */
export interface WireError {
  message: string
  extensions?: { code?: unknown; retryAfterSeconds?: unknown }
}

/** The first GraphQL error as an {@link ApiError}; a code the client does not know becomes `UNKNOWN`. */
export function toApiError(errors: readonly WireError[]): ApiError {
  const first = errors[0]
  const code = first?.extensions?.code
  const retry = first?.extensions?.retryAfterSeconds
  return new ApiError(first?.message ?? 'Unknown error', typeof code === 'string' && serverCodes.has(code) ? (code as ServerErrorCode) : 'UNKNOWN', typeof retry === 'number' ? retry : undefined)
}

/**
 * urql's error of a query or mutation as an {@link ApiError}: its first GraphQL error,
 * else `NETWORK` ("The server cannot be reached." without an answer, "The server answered
 * <status>." for an answer without data or errors).
 */
export function apiErrorOf(error: CombinedError): ApiError {
  if (error.graphQLErrors.length > 0) return toApiError(error.graphQLErrors as readonly WireError[])
  const status = (error.response as Response | undefined)?.status
  return new ApiError(status === undefined ? 'The server cannot be reached.' : `The server answered ${status}.`, 'NETWORK')
}
