/**
 * Keeps the live suggestions subscription running: on a dropped stream it waits
 * (exponential back-off, or the server's retryAfterSeconds) and subscribes again,
 * resuming with the cursor of the last batch while the walk was unfinished, or
 * starting a fresh walk once the list was complete. A rejected token stops at once,
 * and so does a refusal that waiting will not clear (shown, not retried forever).
 */
import type { ApiClient } from '../api/client.ts'
import { ApiError } from '../api/errors.ts'
import { SuggestionsSubscription } from '../api/documents.ts'
import { SECOND_MS } from '../time.ts'
import type { SuggestionsEvent } from './reducer.ts'

export interface StreamOptions {
  /** Only its subscription is used. */
  client: Pick<ApiClient, 'subscribe'>
  maxSuggestions?: number
  batchSize?: number
  dispatch: (event: SuggestionsEvent) => void
  /** Called once when the token is rejected. */
  onUnauthorized: () => void
  /** Delay before attempt n (0-based) after a drop. */
  backoff?: (attempt: number) => number
  setTimer?: (run: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
  /** Set while an attempt waits after a drop: calling it attempts at once ("Retry now"); null otherwise. */
  retryNow?: { current: (() => void) | null }
  /** Where an earlier stream (another tab's) got to: resume after its cursor, or walk anew once it was complete. */
  from?: StreamPosition
}

/** How far a walk got: the last batch's cursor, and whether SuggestionsComplete came. */
export interface StreamPosition {
  cursor: string | null
  complete: boolean
}

/** The position after `event` (a stream event, as dispatched). */
export function nextPosition(position: StreamPosition, event: SuggestionsEvent): StreamPosition {
  if (event.type === 'subscribed' && event.resumeFrom === null) return { cursor: null, complete: false }
  if (event.type !== 'received') return position
  if (event.event.__typename === 'SuggestionBatch') return { ...position, cursor: event.event.cursor }
  if (event.event.__typename === 'SuggestionsComplete') return { ...position, complete: true }
  return position
}

/** Codes whose refusal comes back however long the client waits (a bad cursor is handled apart: the walk starts anew). */
const LASTING_REFUSALS: ReadonlySet<string> = new Set(['FORBIDDEN', 'QUOTA_EXCEEDED', 'QUERY_TOO_COMPLEX', 'BAD_REQUEST', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'OPERATION_RESOLUTION_FAILURE'])

/** Whether waiting cannot clear `error`: a lasting code, a RATE_LIMITED without retryAfterSeconds, or bad input without a cursor to blame. */
export function isLastingRefusal(error: ApiError, hadCursor: boolean): boolean {
  if (error.retryAfterSeconds !== undefined) return false
  if (LASTING_REFUSALS.has(error.code) || error.code === 'RATE_LIMITED') return true
  return error.code === 'BAD_USER_INPUT' && !hadCursor
}

/** 0.5 s, 1 s, 2 s ... up to 15 s, with jitter (half to full) so clients do not come back in step. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(15_000, 500 * 2 ** attempt)
  return Math.round(ceiling * (0.5 + random() / 2))
}

function describe(error: ApiError): string {
  if (error.code === 'CLOSED' || error.code === 'NETWORK') return 'The connection to the server was lost.'
  return error.message
}

/** Starts the stream; returns the function that stops it for good. */
export function startSuggestionsStream(options: StreamOptions): () => void {
  const { client, dispatch, onUnauthorized, backoff = backoffDelay } = options
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms))
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>))
  let cursor: string | null = options.from?.cursor ?? null
  let complete = options.from?.complete ?? false
  let attempt = 0
  let stopped = false
  let unsubscribe: (() => void) | null = null
  let timer: unknown = null

  const retry = (error: ApiError) => {
    unsubscribe = null
    if (stopped) return
    if (error.unauthorized) {
      dispatch({ type: 'unauthorized' })
      onUnauthorized()
      return
    }
    // A cursor the server refuses (signed with a key it no longer has, or from before cursors were
    // signed) will be refused again: walk anew instead of retrying it forever.
    if (isLastingRefusal(error, cursor !== null && !complete)) {
      dispatch({ type: 'refused', message: `The server refused the suggestions: ${error.message}` })
      return
    }
    if (error.code === 'BAD_USER_INPUT') cursor = null
    // The server's retryAfterSeconds at least; refused again and again (another browser holds the user's streams),
    // the back-off grows past it, so a refusal that lasts is asked about every 15 s, not every second.
    const delay = Math.max(error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * SECOND_MS : 0, backoff(attempt))
    attempt += 1
    timer = setTimer(subscribe, delay)
    if (options.retryNow)
      options.retryNow.current = () => {
        if (timer === null) return
        clearTimer(timer)
        subscribe()
      }
    dispatch({ type: 'dropped', message: describe(error), retryInMs: delay, at: Date.now() })
  }

  function subscribe() {
    timer = null
    if (options.retryNow) options.retryNow.current = null
    if (stopped) return
    // Resume an unfinished walk after its last batch; after a complete list, walk anew.
    const resumeFrom = !complete ? cursor : null
    if (resumeFrom === null) {
      cursor = null
      complete = false
    }
    dispatch({ type: 'subscribed', resumeFrom })
    const input = {
      live: true,
      ...(options.maxSuggestions !== undefined ? { maxSuggestions: options.maxSuggestions } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(resumeFrom !== null ? { resumeFrom } : {}),
    }
    unsubscribe = client.subscribe(SuggestionsSubscription, { input }, {
      next: ({ suggestions: event }) => {
        attempt = 0
        if (event.__typename === 'SuggestionBatch') cursor = event.cursor
        if (event.__typename === 'SuggestionsComplete') complete = true
        dispatch({ type: 'received', event, at: Date.now() })
      },
      open: () => dispatch({ type: 'opened' }),
      error: retry,
      // A live stream has no end: the server going away ends it, so come back.
      complete: () => retry(new ApiError('The server ended the stream.', 'CLOSED')),
    })
  }

  subscribe()
  return () => {
    stopped = true
    if (options.retryNow) options.retryNow.current = null
    if (timer !== null) clearTimer(timer)
    unsubscribe?.()
  }
}
