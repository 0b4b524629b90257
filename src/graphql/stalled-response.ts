/**
 * A liveness bound for SSE responses, like graphql-ws's ping/pong: a response
 * whose buffered writes do not drain for `timeoutMs` belongs to a client that
 * reads nothing, and its socket is closed. Yoga's SSE sends a comment every
 * 12 s while its queue has room, but never closes a socket that stopped
 * reading; the kernel's buffers (about 4 MB on loopback) then hold the stream,
 * and with it the user's stream place, for as long as the TCP peer lives.
 * Closing the response aborts the request's signal, which ends the stream.
 */
import type { ServerResponse } from 'node:http'

/** Watches `response` until it closes; destroys it once its writes have waited `timeoutMs` (checked every quarter of it) to drain. */
export function closeWhenStalled(response: ServerResponse, timeoutMs: number): void {
  let stalledSince: number | undefined
  const timer = setInterval(
    () => {
      if (!response.writableNeedDrain) {
        stalledSince = undefined
        return
      }
      stalledSince ??= performance.now()
      if (performance.now() - stalledSince >= timeoutMs) response.destroy()
    },
    Math.max(25, timeoutMs / 4),
  )
  timer.unref()
  response.once('close', () => clearInterval(timer))
}
