/**
 * The errors a client can cause, with the code it sees in `extensions.code`.
 * Domain code throws these; the GraphQL layer turns them into GraphQL errors
 * and masks everything else.
 */
export type ClientErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'MEMORY_PRESSURE'
  | 'RATE_LIMITED'
  /** A document over a limit checked before execution: depth, aliases, tokens, directives or cost. */
  | 'QUERY_TOO_COMPLEX'
  /** A request the server refuses before reading it as GraphQL: too large, wrong content type, malformed frame. */
  | 'BAD_REQUEST'
  /** A walk that ran out of its time budget; retryable (with `resumeFrom` when it emitted anything). */
  | 'TIMEOUT'
  /** A create past a per-user quota (contacts, groups, calendar events); `extensions.limit` and `extensions.resource` say which. */
  | 'QUOTA_EXCEEDED'

export class ClientError extends Error {
  override name = 'ClientError'
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** Extra fields for `extensions`, e.g. `{ field: 'first' }`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

/** Bad input; `field` names the argument or input field at fault. */
export function badUserInput(message: string, field?: string): ClientError {
  return new ClientError('BAD_USER_INPUT', message, field === undefined ? {} : { field })
}

export function notFound(what: string): ClientError {
  return new ClientError('NOT_FOUND', `${what} not found`)
}
