/**
 * Connected apps (issue 16, OAuth 2.0) in Debian's Chromium against the real server (PGlite in memory,
 * the demo user signed in with the demo token): a partner's authorization request lands on the web
 * client's consent page, which names the app and the scopes asked for; Allow sends the browser back to
 * the partner with a code, which the partner exchanges with its PKCE verifier; refresh tokens rotate and a
 * reused one revokes the whole chain; the app's token works on HTTP, SSE and graphql-ws; Deny sends
 * access_denied; the Connected apps page lists the app and disconnects it. Screenshots in web/e2e/output/.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerOAuthClient, type RegisteredClient } from '../../src/oauth/clients.ts'
import { sseClient, wsClient } from '../../test/helpers/clients.ts'
import { authorizationUrl, pkcePair, tokenRequest } from '../../test/helpers/oauth-partner.ts'
import { browserTestsEnabled, launchChromium, screenshotPath, startDemoServer, type DemoServer } from './harness.ts'

const enabled = browserTestsEnabled()
const LIVE = 'subscription { suggestions(input: { maxSuggestions: 5 }) { __typename } }'

describe.skipIf(!enabled)('connecting a partner app in Chromium', () => {
  let demo: DemoServer
  let browser: Browser
  let page: Page
  /** The partner's own site: its redirect URI answers a plain page. */
  let partner: Server
  let redirectUri: string
  let app: RegisteredClient

  beforeAll(async () => {
    partner = createServer((_req, res) => res.end('partner callback'))
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve))
    redirectUri = `http://127.0.0.1:${(partner.address() as AddressInfo).port}/callback`
    ;[demo, browser] = await Promise.all([startDemoServer(), launchChromium()])
    app = await registerOAuthClient(demo.db.prisma, { name: 'Acme CRM', redirectUris: [redirectUri], scopes: ['contacts:read', 'suggestions:subscribe', 'suggestions:read'] })
    page = await (await browser.newContext({ viewport: { width: 1000, height: 800 } })).newPage()
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
    await new Promise((resolve) => partner?.close(resolve))
  })

  const exchange = (form: Record<string, string>) => tokenRequest(demo.origin, app, form)

  /** Runs the browser from the authorization request to the partner's callback; returns the callback URL. */
  async function authorize(scope: string, answer: 'Allow' | 'Deny', { challenge, state }: { challenge: string; state: string }): Promise<URL> {
    await page.goto(authorizationUrl(demo.origin, app, { scope, state, challenge, redirectUri }))
    await page.waitForURL(/\/oauth\/consent\//)
    await page.getByRole('heading', { name: 'Connect Acme CRM?' }).waitFor()
    await page.getByRole('button', { name: answer }).click()
    await page.waitForURL((url) => url.href.startsWith(redirectUri))
    return new URL(page.url())
  }

  it('consents on the web client, exchanges the code with PKCE, rotates refresh tokens, and a reused one revokes the chain', async () => {
    const { verifier, challenge } = pkcePair()
    await page.goto(authorizationUrl(demo.origin, app, { scope: 'contacts:read suggestions:subscribe', state: 'xyz', challenge, redirectUri }))
    await page.waitForURL(/\/oauth\/consent\//)
    await page.getByRole('heading', { name: 'Connect Acme CRM?' }).waitFor()
    const asked = await page.getByRole('list', { name: 'What the app asks for' }).getByRole('listitem').allTextContents()
    expect(asked).toEqual(['See your contacts contacts:read', 'Follow your suggestions live suggestions:subscribe'])
    await page.getByText(`You will go back to ${new URL(redirectUri).origin}`).waitFor()
    await page.screenshot({ path: screenshotPath('oauth-consent') })
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL((url) => url.href.startsWith(redirectUri))
    const callback = new URL(page.url())
    expect(callback.searchParams.get('state')).toBe('xyz')
    expect(callback.searchParams.get('iss')).toBe(`${demo.origin}/oauth`)

    const code = callback.searchParams.get('code')!
    const codeWith = (form: Record<string, string>) => exchange({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...form })
    // Without the verifier, or with another one, the code is worth nothing (and stays unspent: PKCE is checked first).
    expect((await codeWith({})).body.error).toBe('invalid_grant')
    expect((await codeWith({ code_verifier: pkcePair().verifier })).body.error).toBe('invalid_grant')
    const issued = await codeWith({ code_verifier: verifier })
    expect(issued.status, JSON.stringify(issued.body)).toBe(200)
    expect(issued.body.scope).toBe('contacts:read suggestions:subscribe')
    const me = async (token: string) => (await demo.server.query('{ me { email } }', {}, token)) as { data?: { me: { email: string } } | null; errors?: { extensions?: { code?: string } }[] }
    expect((await me(issued.body.access_token!)).data?.me.email).toBeDefined()

    const rotated = await exchange({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token! })
    expect(rotated.status).toBe(200)
    expect(rotated.body.refresh_token).not.toBe(issued.body.refresh_token)
    const reused = await exchange({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token! })
    expect(reused.body.error).toBe('invalid_grant')
    expect((await exchange({ grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token! })).body.error).toBe('invalid_grant')
    expect((await me(rotated.body.access_token!)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    // A code is taken once.
    expect((await codeWith({ code_verifier: verifier })).body.error).toBe('invalid_grant')
  })

  it("the app's token works on HTTP, SSE and graphql-ws; the Connected apps page lists the app and disconnects it", async () => {
    const { verifier, challenge } = pkcePair()
    const callback = await authorize('contacts:read suggestions:subscribe suggestions:read', 'Allow', { challenge, state: 's' })
    const { body } = await exchange({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: redirectUri })
    const token = body.access_token!
    expect((await demo.server.query('{ me { email } }', {}, token)).data?.me).toBeDefined()
    for (const client of [sseClient(demo.server.url, token), wsClient(demo.server.url, token)]) {
      try {
        let first: unknown
        for await (const result of client.iterate({ query: LIVE })) {
          first = result
          break
        }
        expect(first).toMatchObject({ data: { suggestions: { __typename: expect.stringMatching(/^Suggestion/) } } })
      } finally {
        await client.dispose()
      }
    }

    await page.goto(`${demo.origin}/apps`)
    const row = page.getByRole('listitem', { name: 'Acme CRM' })
    await row.waitFor()
    expect(await row.getByRole('list').getByRole('listitem').allTextContents()).toEqual(['See your contacts', 'See whom you should reach out to', 'Follow your suggestions live'])
    await page.screenshot({ path: screenshotPath('oauth-connected-apps') })
    await row.getByRole('button', { name: 'Disconnect Acme CRM' }).click()
    await page.getByText('No connected apps.').waitFor()
    expect((await demo.server.query('{ me { email } }', {}, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })

  it('Deny sends access_denied to the app', async () => {
    const callback = await authorize('contacts:read', 'Deny', { ...pkcePair(), state: 'no' })
    expect(callback.searchParams.get('error')).toBe('access_denied')
    expect(callback.searchParams.get('state')).toBe('no')
  })
})
