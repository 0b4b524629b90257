/**
 * `/metrics` (Prometheus text), protected as configured: behind a bearer token
 * (`METRICS_TOKEN`), on a listener of its own (`METRICS_PORT`, e.g. reachable only
 * from the scraper's network), both, or, outside production, open (development
 * listens on loopback). In production without either it is not served (404):
 * the heap, event-loop lag and stream counts are nobody else's business.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { bearerToken } from '../auth/tokens.ts'
import { sendJsonError } from './json-error.ts'

export interface MetricsAccess {
  /** Required as `Authorization: Bearer <token>` when set. */
  token: string | undefined
  /** Serve on this port's own listener instead of the main one (0: any free port). */
  port: number | undefined
  /** Production refuses to serve metrics unprotected. */
  production: boolean
}

export const METRICS_PATH = '/metrics'

const digest = (value: string) => createHash('sha256').update(value).digest()
/** Compares digests, so the time taken tells nothing about the token. */
const sameToken = (given: string | undefined, expected: string) => given !== undefined && timingSafeEqual(digest(given), digest(expected))

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="metrics"')
  sendJsonError(res, status, code, message)
}

/** Is `/metrics` answered on the main listener? */
export function metricsOnMainListener(access: MetricsAccess): boolean {
  return access.port === undefined && (access.token !== undefined || !access.production)
}

/** Answers a request for `/metrics`: the registry's text, or 401 `UNAUTHENTICATED` without the right token. */
export function serveMetrics(registry: Registry, access: MetricsAccess) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (access.token !== undefined && !sameToken(bearerToken(req.headers.authorization), access.token)) {
      return sendError(res, 401, 'UNAUTHENTICATED', 'Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`')
    }
    res.setHeader('content-type', registry.contentType)
    res.end(await registry.metrics())
  }
}

/** The 404 for `/metrics` where it is not served. */
export function metricsNotServed(res: ServerResponse): void {
  sendError(res, 404, 'NOT_FOUND', 'Not found')
}

/** The separate listener for `METRICS_PORT`: `/metrics` and nothing else. Not yet listening. */
export function createMetricsServer(registry: Registry, access: MetricsAccess): Server {
  const serve = serveMetrics(registry, access)
  return createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return metricsNotServed(res)
    void serve(req, res).catch(() => sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.'))
  })
}

/**
 * `/metrics` as configured: `onMainListener` answers it on the main listener (the registry's
 * text, or the 404 where it is not served there), and `server` is its own listener when
 * `access.port` is set (not yet listening).
 */
export function metricsEndpoints(registry: Registry, access: MetricsAccess): {
  onMainListener: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void
  server: Server | undefined
} {
  const serve = serveMetrics(registry, access)
  return {
    onMainListener: metricsOnMainListener(access) ? serve : (_req, res) => metricsNotServed(res),
    server: access.port === undefined ? undefined : createMetricsServer(registry, access),
  }
}
