/**
 * The one guard for every URL the server fetches on a user's behalf (DAV accounts now, webhooks
 * later): only http(s), no credentials in the URL, and never a host that resolves to a loopback,
 * private, link-local (169.254.169.254 included), unique-local or otherwise non-public address,
 * unless `allowPrivate` (DAV_ALLOW_PRIVATE_URLS). The addresses are checked when the connection is
 * made, by the resolver the socket itself uses, so a name that resolves to a public address for a
 * first check and to a private one for the connection (DNS rebinding) is refused too. Redirects are
 * followed (at most 5), each hop through the same checks. OWASP SSRF prevention cheat sheet.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { Agent, fetch as undiciFetch } from 'undici'

/** Why the guard refused a URL. */
export type UnsafeUrlReason = 'scheme' | 'credentials-in-url' | 'private-address' | 'unresolvable' | 'malformed' | 'redirects'

/** A URL the server will not fetch; `reason` says why (the message is safe to show the user). */
export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError'
  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
  ) {
    super(message)
  }
}

/** Resolves a host name to all its addresses (tests inject answers; default: the system resolver). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>

export interface OutboundOptions {
  /** DAV_ALLOW_PRIVATE_URLS: let private and loopback addresses through. */
  allowPrivate: boolean
  /** The longest a request may take, headers and body, in ms. */
  timeoutMs: number
  lookup?: HostLookup | undefined
}

/** Redirects followed before giving up. */
export const MAX_REDIRECTS = 5

/**
 * True for every address that is not plain public unicast: loopback, RFC 1918 private, link-local
 * (169.254/16, fe80::/10), unique-local (fc00::/7), unspecified, carrier-grade NAT, multicast,
 * broadcast, reserved, and IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64, Teredo);
 * an IPv4-mapped IPv6 address is judged as its IPv4 address. Not an IP address: true.
 */
export function isPrivateAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return true
  return ipaddr.process(ip).range() !== 'unicast'
}

const systemLookup: HostLookup = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses: LookupAddress[]) => (error ? reject(error) : resolve(addresses))),
  )

/** The host of `url` without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '')

/** Parses `value` and checks what can be checked without resolving: scheme and user info. */
function parseOutboundUrl(value: string | URL): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UnsafeUrlError('malformed', 'not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsafeUrlError('scheme', `only http and https URLs are fetched, not ${url.protocol}`)
  if (url.username !== '' || url.password !== '') throw new UnsafeUrlError('credentials-in-url', 'a URL may not carry a user name or password')
  if (hostOf(url) === '') throw new UnsafeUrlError('malformed', 'the URL has no host')
  return url
}

/** The addresses of `hostname` (itself if it is an IP literal); refuses private ones unless allowed. */
async function checkedAddresses(hostname: string, options: OutboundOptions): Promise<{ address: string; family: number }[]> {
  const literal = isIP(hostname)
  let addresses: { address: string; family: number }[]
  if (literal) addresses = [{ address: hostname, family: literal }]
  else {
    try {
      addresses = await (options.lookup ?? systemLookup)(hostname)
    } catch {
      throw new UnsafeUrlError('unresolvable', `${hostname} does not resolve`)
    }
    if (addresses.length === 0) throw new UnsafeUrlError('unresolvable', `${hostname} does not resolve`)
  }
  if (!options.allowPrivate && addresses.some(({ address }) => isPrivateAddress(address))) {
    throw new UnsafeUrlError('private-address', `${hostname} resolves to a private, loopback or link-local address: the server does not fetch those`)
  }
  return addresses
}

/**
 * Checks `url` before the server stores it (connectAccount): parse, scheme, user info, and every
 * address its host resolves to. Throws only {@link UnsafeUrlError}. The connection is checked again
 * by {@link createOutboundFetch}.
 */
export async function assertPublicUrl(url: string, options: OutboundOptions): Promise<URL> {
  const parsed = parseOutboundUrl(url)
  await checkedAddresses(hostOf(parsed), options)
  return parsed
}

/** The Node `lookup` the sockets use: the same check, on the answer the connection is made with. */
function guardedSocketLookup(options: OutboundOptions) {
  return (
    hostname: string,
    lookupOptions: { all?: boolean; family?: number },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    checkedAddresses(hostname, options).then(
      (addresses) => {
        const usable = lookupOptions.family ? addresses.filter((entry) => entry.family === lookupOptions.family) : addresses
        const answer = usable.length > 0 ? usable : addresses
        if (lookupOptions.all) callback(null, answer)
        else callback(null, answer[0]!.address, answer[0]!.family)
      },
      (error: Error) => callback(error, ''),
    )
  }
}

/**
 * A `fetch` for user-given URLs: undici's, on an Agent whose sockets resolve through the guard,
 * with IP-literal hosts and every redirect hop checked, and the whole request bounded by
 * `timeoutMs` (with the caller's signal, if any). Rejects with {@link UnsafeUrlError} for a URL
 * the guard refuses; otherwise as `fetch` does (a TypeError on network failures, the signal's
 * reason on a timeout or abort).
 */
export function createOutboundFetch(options: OutboundOptions): typeof fetch {
  const agent = new Agent({ connect: { lookup: guardedSocketLookup(options) as never } })
  const guarded = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) throw new TypeError('the outbound fetch takes a URL, not a Request')
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs)
    let url = parseOutboundUrl(input)
    let method = init.method ?? 'GET'
    let body = init.body
    for (let hop = 0; ; hop++) {
      // IP literals never reach the socket's lookup: check them here.
      if (isIP(hostOf(url))) await checkedAddresses(hostOf(url), options)
      let response: Response
      try {
        response = (await undiciFetch(url, { ...(init as object), method, body, redirect: 'manual', signal, dispatcher: agent } as never)) as unknown as Response
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause
        if (cause instanceof UnsafeUrlError) throw cause
        throw error
      }
      const location = response.headers.get('location')
      if (response.status < 300 || response.status > 399 || response.status === 304 || !location || init.redirect === 'manual') return response
      await response.body?.cancel()
      if (hop >= MAX_REDIRECTS) throw new UnsafeUrlError('redirects', `more than ${MAX_REDIRECTS} redirects`)
      url = parseOutboundUrl(new URL(location, url))
      // As browsers do: 303, and 301/302 after a POST, become a GET without a body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
      }
    }
  }
  return guarded as typeof fetch
}
