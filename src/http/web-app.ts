/**
 * Serves the built React client (`web/dist`): hashed assets through sirv, and
 * `index.html` for every other page the browser navigates to, with the page's
 * config filled in: the demo token (development) only for a loopback client
 * asking for a loopback host (see http/loopback.ts), as GraphiQL's headers get it.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import sirv from 'sirv'
import { PROJECT_ROOT } from '../project-root.ts'
import { isLoopbackClient } from './loopback.ts'

/** Where `npm run build` puts the web client. */
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist')

export interface WebAppConfig {
  /** Handed to loopback clients only. */
  demoToken?: string | undefined
}

/** JSON that is safe inside a `<script>` element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c')

/**
 * Returns a handler that answers GET/HEAD requests for the app and returns false for
 * the rest, or null when the app is not built (`npm run build`).
 */
export function createWebApp(config: WebAppConfig, distDir = WEB_DIST) {
  const indexPath = join(distDir, 'index.html')
  if (!existsSync(indexPath)) return null
  const html = readFileSync(indexPath, 'utf8')
  const withConfig = (pageConfig: Record<string, unknown>) =>
    html.replace('<!--app-config-->', `<script id="app-config" type="application/json">${scriptJson(pageConfig)}</script>`)
  const index = withConfig({})
  const indexWithToken = config.demoToken ? withConfig({ demoToken: config.demoToken }) : index
  // Asset names carry a content hash: cache them for a year.
  const assets = sirv(distDir, { maxAge: 31_536_000, immutable: true, dotfiles: false })
  const sendIndex = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.setHeader('cache-control', 'no-store')
    res.end(req.method === 'HEAD' ? undefined : isLoopbackClient(req) ? indexWithToken : index)
  }
  return (req: IncomingMessage, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return resolve(false)
      const path = new URL(req.url ?? '/', 'http://localhost').pathname
      // A page of the app (a path without a file extension) for a browser; files from dist.
      if (path === '/index.html' || !path.slice(path.lastIndexOf('/')).includes('.')) {
        if (!(req.headers.accept ?? '').includes('text/html')) return resolve(false)
        sendIndex(req, res)
        return resolve(true)
      }
      assets(req, res, () => resolve(false))
      res.once('finish', () => resolve(true))
    })
}
