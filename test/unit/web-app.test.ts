import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createWebApp, type WebAppConfig } from '../../src/http/web-app.ts'

let server: Server | undefined
afterEach(
  () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve()
      server.close(() => resolve())
      server.closeAllConnections() // kept-alive sockets of node:http requests
    }),
)

/** A built app in a temporary folder, served by createWebApp; what it does not answer gets 404. */
async function serve(config: WebAppConfig, bindHost = '127.0.0.1'): Promise<string> {
  const dist = await mkdtemp(path.join(tmpdir(), 'web-dist-'))
  await mkdir(path.join(dist, 'assets'))
  await writeFile(path.join(dist, 'index.html'), '<html><head><!--app-config--></head><body></body></html>')
  await writeFile(path.join(dist, 'assets', 'index-abc.js'), 'console.log(1)')
  const app = createWebApp(config, dist)!
  server = createServer(async (req, res) => {
    if (!(await app(req, res))) res.writeHead(404).end('not ours')
  })
  await new Promise<void>((resolve) => server!.listen(0, bindHost, resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const page = (url: string) => fetch(url, { headers: { accept: 'text/html' } })

/** A page asked for with this Host header (fetch always sends the URL's own). */
const pageWithHost = (url: string, host: string) =>
  new Promise<string>((resolve, reject) => {
    request(url, { headers: { accept: 'text/html', host } }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })

/** An address of this machine other people could reach (not loopback), if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address
const TOKEN_CONFIG = '{"demoToken":"tok"}'

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

  it('hands the demo token only to a loopback client naming a loopback host', async () => {
    const url = await serve({ demoToken: 'tok' })
    for (const host of ['localhost', `localhost:${new URL(url).port}`, '127.0.0.1', '[::1]:4000', 'LOCALHOST']) {
      expect(await pageWithHost(url, host)).toContain(TOKEN_CONFIG)
    }
    // A DNS-rebinding page: its own name resolved to 127.0.0.1, so the browser sends that name.
    for (const host of ['evil.example', 'evil.example:4000', 'localhost.evil.example', '127.0.0.1.nip.io']) {
      const html = await pageWithHost(url, host)
      expect(html).toContain('<script id="app-config" type="application/json">{}</script>')
      expect(html).not.toContain('tok')
    }
  })

  it.skipIf(!externalAddress)('hands no token to a client on the network, whatever Host it sends', async () => {
    const url = await serve({ demoToken: 'tok' }, '0.0.0.0')
    const external = url.replace('127.0.0.1', externalAddress!)
    expect(await (await page(external)).text()).toContain('<script id="app-config" type="application/json">{}</script>')
    expect(await pageWithHost(external, 'localhost')).not.toContain('tok')
    // The same server still gives it to the machine itself.
    expect(await (await page(url)).text()).toContain(TOKEN_CONFIG)
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
