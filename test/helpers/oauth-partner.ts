/**
 * A partner app's side of OAuth 2.0 against a test server, in plain `fetch` (what a partner would write):
 * PKCE (S256), the authorization URL, the code exchange, refreshes. And, for tests that are not about the
 * browser, the browser's part done in Node ({@link consentInNode}): the redirects with their cookies and
 * the web client's two consent calls.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { registerOAuthClient, type RegisteredClient } from '../../src/oauth/clients.ts'

export const REDIRECT_URI = 'http://127.0.0.1:9/callback'

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Registers an app (as the CLI does) for `scopes`, redirecting to {@link REDIRECT_URI}. */
export function registerTestApp(prisma: PrismaClient, scopes: string[], name = 'Partner CRM'): Promise<RegisteredClient> {
  return registerOAuthClient(prisma, { name, redirectUris: [REDIRECT_URI], scopes })
}

/** The authorization request URL (`/oauth/auth`) of `app` asking for `scope`. */
export function authorizationUrl(origin: string, app: { clientId: string }, { scope, state, challenge, redirectUri = REDIRECT_URI }: { scope: string; state: string; challenge?: string; redirectUri?: string }): string {
  const url = new URL('/oauth/auth', origin)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
  }).toString()
  return url.href
}

export interface TokenAnswer {
  status: number
  body: { access_token?: string; refresh_token?: string; expires_in?: number; scope?: string; token_type?: string; error?: string; error_description?: string }
}

/** POST /oauth/token with HTTP Basic client authentication. */
export async function tokenRequest(origin: string, app: { clientId: string; clientSecret: string }, form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(new URL('/oauth/token', origin), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  })
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] }
}

/** Exchanges an authorization code (with its PKCE verifier). */
export function exchangeCode(origin: string, app: RegisteredClient, code: string, verifier: string): Promise<TokenAnswer> {
  return tokenRequest(origin, app, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI })
}

/** Uses a refresh token. */
export function refresh(origin: string, app: RegisteredClient, refreshToken: string): Promise<TokenAnswer> {
  return tokenRequest(origin, app, { grant_type: 'refresh_token', refresh_token: refreshToken })
}

/** A browser's cookies, enough for oidc-provider's (name=value, path-scoped). */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>()
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';')
      const [name, ...value] = pair!.trim().split('=')
      const path = attributes.map((attribute) => attribute.trim()).find((attribute) => attribute.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      const key = `${name}@${path}`
      if (/expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(key)
      else this.cookies.set(key, { value: value.join('='), path })
    }
  }
  header(url: string): string {
    const path = new URL(url).pathname
    return [...this.cookies.entries()]
      .filter(([, cookie]) => path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      .map(([key, cookie]) => `${key.slice(0, key.lastIndexOf('@'))}=${cookie.value}`)
      .join('; ')
  }
}

/**
 * The browser's part of the flow, in Node: follows the authorization URL to the consent page, asks its
 * details and confirms (or denies) with the web client's `webToken`, follows the redirects back, and returns
 * the redirect to the app (its `code` or `error`, and `state`).
 */
export async function consentInNode(authorizeUrl: string, webToken: string, { deny = false } = {}): Promise<{ redirect: URL; details: any }> {
  const jar = new CookieJar()
  const get = async (url: string) => {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } })
    jar.take(response)
    return response
  }
  const first = await get(authorizeUrl)
  const consentPage = new URL(first.headers.get('location') ?? '', authorizeUrl)
  if (first.status !== 303 || !consentPage.pathname.startsWith('/oauth/consent/')) throw new Error(`expected the consent page, got ${first.status} ${consentPage.href}: ${await first.text()}`)
  const api = (action: string, method: string) =>
    fetch(`${consentPage.href}/${action}`, { method, headers: { cookie: jar.header(`${consentPage.href}/${action}`), authorization: `Bearer ${webToken}` } })
  const details = (await (await api('details', 'GET')).json()) as Record<string, unknown>
  const answer = await api(deny ? 'deny' : 'confirm', 'POST')
  if (answer.status !== 200) throw new Error(`consent answered ${answer.status}: ${await answer.text()}`)
  let next = ((await answer.json()) as { redirectTo: string }).redirectTo
  for (let hop = 0; hop < 5; hop++) {
    const response = await get(next)
    const location = response.headers.get('location')
    if (!location) throw new Error(`no redirect from ${next}: ${response.status} ${await response.text()}`)
    const target = new URL(location, next)
    if (target.href.startsWith(REDIRECT_URI)) return { redirect: target, details }
    next = target.href
  }
  throw new Error('too many redirects')
}
