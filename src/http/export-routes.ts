/**
 * The download routes: `GET /export/contacts.vcf`, `/export/contacts.csv`, `/export/calendar.ics`
 * (`Authorization: Bearer`), and the calendar feed `GET /feeds/<secret>.ics` (no header: the
 * secret is the credential). Each answer is streamed (chunked) from an export walk
 * (exports/export-streams.ts) through `Readable.from` and `pipeline`: a page is read only when the
 * socket has taken the last one, and a client that leaves ends the walk (its signal aborts and
 * the generator is returned). Refusals are JSON in the GraphQL error shape: 401 UNAUTHENTICATED,
 * 403 FORBIDDEN, 404 NOT_FOUND, 405 BAD_REQUEST, 429 RATE_LIMITED.
 *
 * A partner credential (API key, OAuth app) downloads within its budget (route-budget.ts): a flat
 * PARTNER_TRANSFER_POINTS, a concurrent-request lease held until the answer ends, RateLimit fields on
 * every answer. EXPORTS_PER_USER is counted per pool (auth/user-pools.ts): the user's session, their
 * partners together, their feed's readers; so a partner never takes the session's places. The feed
 * has no credential (its secret URL is read by calendar apps) and no budget.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { authenticate, type Credential } from '../auth/authenticate.ts'
import { forbiddenScopeMessage, grants, type Scope } from '../auth/scopes.ts'
import type { Clock } from '../clock.ts'
import type { ClientErrorCode } from '../errors.ts'
import { userOfFeedSecret } from '../exports/calendar-feed.ts'
import type { ExportLimiter } from '../exports/export-limit.ts'
import { acceptedSuggestionsFeed, calendarIcs, contactsCsv, contactsVCard, FEED_REFRESH_MINUTES } from '../exports/export-streams.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { perUserPoolKey } from '../auth/user-pools.ts'
import { requestIdFrom } from './request-id.ts'
import { sendJsonError } from './json-error.ts'
import { admitTransfer, peekRateLimitFields, type RouteBudgets } from './route-budget.ts'

export interface ExportRoutesOptions {
  prisma: PrismaClient
  clock: Clock
  logger: Logger
  /** Exports (and feed fetches) one user may have under way at once in this process, per pool (EXPORTS_PER_USER; auth/user-pools.ts). */
  limiter: ExportLimiter
  /** The host part of exported UIDs (`<id>@<domain>`): PUBLIC_URL's host. */
  uidDomain: string
  /** The credential of an `Authorization` value (default: authenticate() without OAuth; app.ts passes its own, as for GraphQL). */
  authenticate?: (authorization: unknown) => Promise<Credential | null>
  /** The partner budgets (app.ts passes the server's); omitted, nobody is budgeted here. */
  budgets?: RouteBudgets | undefined
}

/** Does this request belong to the export routes? (Everything under `/export/` and `/feeds/`.) */
export function isExportPath(url: string | undefined): boolean {
  return url !== undefined && /^\/(export|feeds)(\/|$|\?)/.test(url)
}

type Exporter = (userId: string, signal: AbortSignal) => AsyncGenerator<string, void, undefined>

interface Download {
  contentType: string
  filename: string
  run: Exporter
  /** What a partner credential needs to download it (a session has every scope). */
  scope: Scope
}

const sendError = (res: ServerResponse, status: number, code: ClientErrorCode | 'INTERNAL_SERVER_ERROR', message: string, extra: Record<string, unknown> = {}) =>
  sendJsonError(res, status, code, message, extra)

const isPrematureClose = (error: unknown) => (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE'

/** The handler of {@link isExportPath} requests. */
export function exportRoutes({
  prisma,
  clock,
  logger,
  limiter,
  uidDomain,
  budgets,
  authenticate: credentialOf = (authorization) => authenticate(prisma, authorization, clock.now()),
}: ExportRoutesOptions) {
  const downloads: Record<string, Download> = {
    '/export/contacts.vcf': { contentType: 'text/vcard; charset=utf-8', filename: 'contacts.vcf', scope: 'contacts:read', run: (userId, signal) => contactsVCard(prisma, { userId, signal }) },
    '/export/contacts.csv': { contentType: 'text/csv; charset=utf-8', filename: 'contacts.csv', scope: 'contacts:read', run: (userId, signal) => contactsCsv(prisma, { userId, signal }) },
    '/export/calendar.ics': {
      contentType: 'text/calendar; charset=utf-8',
      filename: 'calendar.ics',
      scope: 'calendar:read',
      run: (userId, signal) => calendarIcs(prisma, { userId, signal, uidDomain, now: clock.now() }),
    },
  }
  const feed: Exporter = (userId, signal) => acceptedSuggestionsFeed(prisma, { userId, signal, uidDomain })

  /**
   * Streams `run`'s chunks under the user's export limit (the pool of `credential`'s kind, or the
   * feed's) and, for a partner credential, its budget; the first chunk is read before the headers, so
   * a failure before it is still a JSON answer.
   */
  async function stream(req: IncomingMessage, res: ServerResponse, userId: string, credential: Credential | 'feed', run: Exporter, headers: Record<string, string>, requestId: string): Promise<void> {
    const partner = credential === 'feed' ? null : credential
    const placeReleased = limiter.tryAcquire(perUserPoolKey(userId, partner ? partner.kind : 'feed'))
    if (!placeReleased) {
      if (partner) await peekRateLimitFields(res, budgets, partner)
      res.setHeader('retry-after', '1')
      return sendError(res, 429, 'RATE_LIMITED', `at most ${limiter.perUser} exports at once per user`, { retryAfterSeconds: 1 })
    }
    let admission: Awaited<ReturnType<typeof admitTransfer>>
    try {
      admission = partner ? await admitTransfer(res, budgets, partner) : { release: () => {} }
    } catch (error) {
      placeReleased()
      throw error
    }
    if (!admission) return placeReleased()
    const lease = admission
    const release = () => {
      lease.release()
      placeReleased()
    }
    const abort = new AbortController()
    const onClose = () => abort.abort()
    res.once('close', onClose)
    const chunks = run(userId, abort.signal)
    try {
      const first = await chunks.next()
      res.statusCode = 200
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
      res.setHeader('x-content-type-options', 'nosniff')
      if (req.method === 'HEAD' || first.done) {
        await chunks.return()
        res.end()
        return
      }
      async function* all(): AsyncGenerator<string, void, undefined> {
        try {
          yield first.value as string
          yield* chunks
        } finally {
          await chunks.return()
        }
      }
      await pipeline(Readable.from(all(), { objectMode: false }), res)
    } catch (error) {
      await chunks.return().catch(() => {})
      if (abort.signal.aborted || isPrematureClose(error)) {
        logger.debug({ requestId, path: req.url }, 'export: the client left')
        return
      }
      logger.error({ err: error, requestId, path: req.url }, 'export failed')
      // Once the headers are out, a cut connection is the only honest end: a client must not take half a file for all of it.
      if (res.headersSent) res.destroy()
      else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.', { requestId })
    } finally {
      res.off('close', onClose)
      release()
    }
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined)
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD')
        return sendError(res, 405, 'BAD_REQUEST', 'Only GET and HEAD are served here')
      }
      const download = downloads[path]
      if (download) {
        const credential = await credentialOf(req.headers.authorization)
        if (!credential) {
          res.setHeader('www-authenticate', 'Bearer')
          return sendError(res, 401, 'UNAUTHENTICATED', 'Sign in: send a valid token as `Authorization: Bearer <token>`')
        }
        if (!grants(credential.scopes, download.scope)) {
          await peekRateLimitFields(res, budgets, credential)
          return sendError(res, 403, 'FORBIDDEN', forbiddenScopeMessage(download.scope), { scope: download.scope })
        }
        return await stream(req, res, credential.userId, credential, download.run, { 'content-type': download.contentType, 'content-disposition': `attachment; filename="${download.filename}"`, 'cache-control': 'no-store' }, requestId)
      }
      const feedSecret = /^\/feeds\/([^/]+)\.ics$/.exec(path)?.[1]
      const userId = feedSecret ? await userOfFeedSecret(prisma, feedSecret) : null
      if (!userId) return sendError(res, 404, 'NOT_FOUND', 'Not found')
      return await stream(req, res, userId, 'feed', feed, { 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': 'inline; filename="catch-ups.ics"', 'cache-control': `private, max-age=${FEED_REFRESH_MINUTES * 60}` }, requestId)
    } catch (error) {
      logger.error({ err: error, requestId, path: req.url }, 'export route failed')
      if (res.headersSent) res.destroy()
      else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.', { requestId })
    }
  }
}
