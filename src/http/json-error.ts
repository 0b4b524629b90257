/**
 * The JSON error body of the routes outside GraphQL (`/metrics`, `/export/*`, `/feeds/*`, unknown paths):
 * the shape of a GraphQL error, `{"errors":[{"message","extensions":{"code",...}}]}`, so a client reads one
 * kind of refusal everywhere. Never cached.
 */
import type { ServerResponse } from 'node:http'

/** Answers `status` with `message` and `extensions.code` = `code` (plus `extensions`). */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string, extensions: Record<string, unknown> = {}): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  res.end(JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] }))
}
