/**
 * `POST /import/contacts` and `POST /import/calendar`: the file is the request body, streamed
 * into upload storage (imports/upload.ts) a chunk at a time, never held whole; then the import
 * job is queued and the answer is `202 {"id": "<global id of the Import>"}` at once (follow it
 * with `import(id)` or `importProgress(id)`).
 *
 * `Authorization: Bearer` is required; `Content-Type` says the format (`text/vcard`,
 * `text/x-vcard`, `text/csv`, `text/calendar`), `?format=vcard|csv|csv-google|csv-outlook|ics`
 * overrides it. Every refusal is JSON `{"errors":[{"message","extensions":{"code"}}]}`:
 * 401 UNAUTHENTICATED, 405 BAD_REQUEST (not a POST), 413 BAD_REQUEST (IMPORT_MAX_BYTES, from
 * Content-Length before reading, or while reading), 415 BAD_USER_INPUT (content type, or content
 * that is not the format), 400 BAD_USER_INPUT (empty), 408 BAD_REQUEST (nothing sent for
 * UPLOAD_IDLE_MS, or longer than UPLOAD_MAX_MS), 429 RATE_LIMITED (imports in flight, uploads still
 * arriving included, or per day). A refusal before the body is read closes the connection, so an unread 100 MB is not
 * drained; one in the middle of the body reads and drops up to IMPORT_MAX_BYTES more first (closing
 * at once resets a client still sending: it sees EPIPE, not the answer).
 *
 * A partner credential (API key, OAuth app) uploads within its budget (route-budget.ts): a flat
 * PARTNER_TRANSFER_POINTS charged once the request is known to be well formed (before the body is
 * read), a concurrent-request lease held until the answer is sent or the client leaves, the
 * RateLimit fields on every answer after authentication; over budget 429 RATE_LIMITED with
 * Retry-After, `retryAfterSeconds` and `policy`, before the body is read.
 *
 * CSRF: a cross-site page can POST `text/plain` without a preflight, but not with an
 * `Authorization` header, and that header is the only credential these routes take (no cookie):
 * the rule of http/csrf.ts (a simple request must carry a header a cross-site page cannot add)
 * holds by construction.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Credential } from '../auth/authenticate.ts'
import { forbiddenScopeMessage, grants } from '../auth/scopes.ts'
import type { Clock } from '../clock.ts'
import { ClientError } from '../errors.ts'
import type { ImportKind, PrismaClient } from '../generated/prisma/client.ts'
import { formatOfUpload, storeUpload, UploadRefused, type UploadLimits } from '../imports/upload.ts'
import type { Logger } from '../logger.ts'
import { requestIdFrom } from './request-id.ts'
import { admitTransfer, peekRateLimitFields, type RouteBudgets, type TransferAdmission } from './route-budget.ts'

/** The path of each kind of import. */
export const IMPORT_PATHS: Record<string, ImportKind> = { '/import/contacts': 'CONTACTS', '/import/calendar': 'CALENDAR' }

export interface ImportRouteDeps {
  prisma: PrismaClient
  /** The credential of an `Authorization` header value (src/auth/authenticate.ts), or null. */
  authenticate: (authorization: string | undefined) => Promise<Credential | null>
  /** Queues the import job (Jobs.enqueueImport). */
  enqueueImport: (importId: string) => Promise<void>
  limits: UploadLimits
  clock: Clock
  logger: Logger
  /** The partner budgets (app.ts passes the server's); omitted, nobody is budgeted here. */
  budgets?: RouteBudgets | undefined
}

/** Whether `url` is one of the import routes (with or without a query string). */
export function isImportRoute(url: string | undefined): boolean {
  return url !== undefined && Object.hasOwn(IMPORT_PATHS, url.split('?')[0]!)
}

function send(res: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  if (res.headersSent || res.destroyed) return
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  if (closeConnection) res.setHeader('connection', 'close')
  res.end(JSON.stringify(body))
}

function refuse(res: ServerResponse, status: number, code: string, message: string, extensions: Record<string, unknown> = {}, bodyUnread = true): void {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer')
  if (status === 429 && typeof extensions.retryAfterSeconds === 'number') res.setHeader('retry-after', String(extensions.retryAfterSeconds))
  send(res, status, { errors: [{ message, extensions: { ...extensions, code } }] }, bodyUnread)
}

/** Reads and drops the rest of a refused body, at most `budget` bytes; past it the connection is cut. */
function drainThenClose(req: IncomingMessage, budget: number): void {
  let left = budget
  req.on('data', (chunk: Buffer) => {
    left -= chunk.byteLength
    if (left < 0) req.socket.destroy()
  })
  req.on('error', () => {})
  req.resume()
}

/** The request listener of the import routes (see the module comment). */
export function serveImports(deps: ImportRouteDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const kind = IMPORT_PATHS[url.pathname]!
    let reading = false
    let credential: Credential | null = null
    let lease: TransferAdmission | undefined
    try {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST')
        return refuse(res, 405, 'BAD_REQUEST', 'POST the file as the request body.')
      }
      credential = await deps.authenticate(req.headers.authorization)
      if (!credential) return refuse(res, 401, 'UNAUTHENTICATED', 'Sign in: send a valid token as `Authorization: Bearer <token>`')
      // Refusals before the transfer carry the partner's buckets as they are (nothing spent).
      const peek = () => peekRateLimitFields(res, deps.budgets, credential!)
      // A partner credential imports with imports:write only (a session has every scope).
      if (!grants(credential.scopes, 'imports:write')) {
        await peek()
        return refuse(res, 403, 'FORBIDDEN', forbiddenScopeMessage('imports:write'), { scope: 'imports:write' })
      }
      const contentLength = req.headers['content-length']
      if (contentLength !== undefined && (!/^\d+$/.test(contentLength) || Number(contentLength) > deps.limits.maxBytes)) {
        await peek()
        if (!/^\d+$/.test(contentLength)) return refuse(res, 400, 'BAD_REQUEST', 'Content-Length is invalid.')
        return refuse(res, 413, 'BAD_REQUEST', `The file is larger than ${deps.limits.maxBytes} bytes (IMPORT_MAX_BYTES).`, { limit: deps.limits.maxBytes })
      }
      const format = formatOfUpload(kind, req.headers['content-type'] ?? null, url.searchParams.get('format'))
      // Charged before the body is read; a refusal closes the connection (the body stays unread).
      lease = await admitTransfer(res, deps.budgets, credential, true)
      if (!lease) return
      reading = true
      // Read without destroying the request on a refusal (a destroyed request takes its socket, and the
      // answer, with it); the refusal closes the connection instead.
      const stored = await storeUpload(deps.prisma, { userId: credential.userId, kind, format, body: req.iterator({ destroyOnReturn: false }), now: deps.clock.now() }, deps.limits)
      reading = false
      // Stored and QUEUED: a queue that is away now leaves it for the next start, which resumes it.
      await deps.enqueueImport(stored.id).catch((error: unknown) => deps.logger.warn({ err: error, importId: stored.id, requestId }, 'import not queued; the next start resumes it'))
      send(res, 202, { id: encodeGlobalID('Import', stored.id) })
    } catch (error) {
      if (credential && !lease) await peekRateLimitFields(res, deps.budgets, credential)
      if (error instanceof ClientError) {
        const status = error instanceof UploadRefused ? error.status : 400
        // Not read yet, read whole, or stalled (nothing is coming to drain): answer and close.
        if (!reading || req.complete || status === 408) return refuse(res, status, error.code, error.message, error.details)
        // Refused mid-body: closing now would reset a client still sending (it sees EPIPE, not the answer).
        // Answer, then read and drop up to IMPORT_MAX_BYTES more before cutting the connection.
        refuse(res, status, error.code, error.message, error.details, false)
        return drainThenClose(req, deps.limits.maxBytes)
      }
      // The client left mid-upload: nobody to answer (storeUpload deleted what it wrote).
      if (reading && (req.destroyed || req.errored)) return
      deps.logger.error({ err: error, requestId, path: url.pathname }, 'unexpected error in an import upload')
      refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.', { requestId })
    } finally {
      // The upload is over (answered, refused or abandoned by its client): the partner's lease ends.
      lease?.release()
    }
  }
}
