/**
 * Request ids: the client's `x-request-id` when it is a plain token, else a fresh
 * UUID. A client's header reaches logs and error answers only after this check,
 * so it cannot forge log lines, inject markup or bloat every line it touches.
 */
import { randomUUID } from 'node:crypto'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** The id to use for a request whose `x-request-id` header is `header` (null when absent). */
export function requestIdFrom(header: string | null | undefined): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID()
}
