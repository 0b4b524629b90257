import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createWebApp, type WebAppConfig } from '../../src/web/web-app.ts'

let server: Server | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

/** A built app in a temporary folder, served by createWebApp; what it does not answer gets 404. */
async function serve(config: WebAppConfig): Promise<string> {
  const dist = await mkdtemp(path.join(tmpdir(), 'web-dist-'))
  await mkdir(path.join(dist, 'assets'))
  await writeFile(path.join(dist, 'index.html'), '<html><head><!--app-config--></head><body></body></html>')
  await writeFile(path.join(dist, 'assets', 'index-abc.js'), 'console.log(1)')
  const app = createWebApp(config, dist)!
  server = createServer(async (req, res) => {
    if (!(await app(req, res))) res.writeHead(404).end('not ours')
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const page = (url: string) => fetch(url, { headers: { accept: 'text/html' } })

describe('createWebApp', () => {
  it('serves every page of the app with its config, the demo token escaped for a script element', async () => {
    const url = await serve({ demoToken: 'tok</script><b>' })
    for (const route of ['/', '/contacts', `/contacts/${encodeURIComponent('Q29udGFjdDox/+=')}`]) {
      const response = await page(url + route)
      expect(response.status).toBe(200)
      const html = await response.text()
      expect(html).toContain('<script id="app-config" type="application/json">{"demoToken":"tok\\u003c/script>\\u003cb>"}</script>')
    }
  })

  it('hands no token when none is given (production), and serves assets', async () => {
    const url = await serve({})
    expect(await (await page(url)).text()).toContain('<script id="app-config" type="application/json">{}</script>')
    const asset = await fetch(`${url}/assets/index-abc.js`)
    expect(asset.headers.get('content-type')).toContain('javascript')
    expect(asset.headers.get('cache-control')).toContain('immutable')
  })

  it('leaves requests that are not for a page or a file to the API', async () => {
    const url = await serve({})
    expect((await fetch(`${url}/contacts`, { headers: { accept: 'application/json' } })).status).toBe(404)
    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404)
    expect((await fetch(url, { method: 'POST', headers: { accept: 'text/html' } })).status).toBe(404)
  })
})
