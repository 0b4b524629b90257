/**
 * The main listener's routes, in order: `/health`, `/metrics`, `POST /import/contacts` and
 * `/import/calendar` (streamed uploads, http/import-routes.ts), the downloads (`/export/*`,
 * `/feeds/*`, http/export-routes.ts), `POST /dev/token` in development (http/dev-token.ts), `/oauth/*` (the OAuth
 * server, http/oauth-routes.ts; its consent page is the web app's), the web app (GET pages and
 * assets, never under `/graphql`), and everything else to GraphQL (Yoga: HTTP and SSE; a
 * stalled SSE client is cut after `streamWriteTimeoutMs`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { closeWhenStalled } from '../graphql/stalled-response.ts'
import { HEALTH_PATH } from './health.ts'
import { isImportRoute } from './import-routes.ts'
import { METRICS_PATH } from './metrics-endpoint.ts'
import { DEV_TOKEN_PATH } from './dev-token.ts'
import { isExportPath } from './export-routes.ts'
import { sendJsonError } from './json-error.ts'
import { isConsentPage, isOAuthPath } from './oauth-routes.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown

export interface Routes {
  health: (res: ServerResponse) => Promise<void>
  metrics: Handler
  /** The import uploads (`/import/contacts`, `/import/calendar`). */
  imports: Handler
  /** `/export/*` and `/feeds/*` (export-routes.ts). */
  exports: Handler
  /** `/oauth/*`: the OAuth server and the consent API (oauth-routes.ts); its consent page is the web app's. */
  oauth?: Handler | undefined
  /** `POST /dev/token` (dev-token.ts), in development only. */
  devToken?: Handler | undefined
  /** Answers a request of the web app and resolves true, or resolves false; null: the app is not built. */
  webApp: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | null
  graphql: Handler
  /** How long an SSE client may take nothing before its response is closed (ms). */
  streamWriteTimeoutMs: number
}

/** What `GET /` answers a client that is not a browser (curl, a script): where things are. */
export const ROOT_DOCUMENT = {
  graphql: '/graphql',
  graphiql: '/graphql (in a browser)',
  web: '/ (in a browser)',
  health: '/health',
  imports: ['POST /import/contacts', 'POST /import/calendar'],
  exports: ['GET /export/contacts.vcf', 'GET /export/contacts.csv', 'GET /export/calendar.ics'],
  calendarFeed: 'GET /feeds/<secret>.ics (the URL rotateCalendarFeed returns; no header)',
  metrics: '/metrics (Prometheus; on METRICS_PORT when set)',
  authentication: 'Authorization: Bearer <token> (npm start prints the demo token in development)',
  oauth: '/oauth/.well-known/openid-configuration (OAuth 2.0 for partner apps: authorization code with PKCE)',
}

/** The request listener of the main HTTP server. */
export function routeRequests(routes: Routes) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    if (req.url === HEALTH_PATH) return routes.health(res)
    if (req.url === METRICS_PATH) return routes.metrics(req, res)
    if (isImportRoute(req.url)) return routes.imports(req, res)
    if (isExportPath(req.url)) return routes.exports(req, res)
    if (routes.devToken && req.url === DEV_TOKEN_PATH) return routes.devToken(req, res)
    if (routes.oauth && isOAuthPath(req.url)) {
      if (routes.webApp && isConsentPage(req) && (await routes.webApp(req, res))) return
      return routes.oauth(req, res)
    }
    if (routes.webApp && !req.url?.startsWith('/graphql') && (await routes.webApp(req, res))) return
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== '/graphql') {
      // Yoga answers other paths with an empty 404: say where the API is instead.
      if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
        res.setHeader('content-type', 'application/json; charset=utf-8')
        return res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(ROOT_DOCUMENT, null, 2)}\n`)
      }
      return sendJsonError(res, 404, 'NOT_FOUND', `Nothing at ${path.slice(0, 100)}: the GraphQL API is at /graphql (GET / lists the routes).`)
    }
    if (req.headers.accept?.includes('text/event-stream')) closeWhenStalled(res, routes.streamWriteTimeoutMs)
    return routes.graphql(req, res)
  }
}
