/**
 * The one guard for every URL the server fetches on behalf of users (DAV accounts today, webhooks later):
 * http(s) only, no credentials in the URL, and no host that resolves to a non-public address (loopback,
 * RFC 1918 private, link-local with the cloud metadata address 169.254.169.254, unique-local, CGNAT,
 * multicast, reserved, NAT64 / IPv4-mapped forms of those) unless the deployment allows private URLs
 * (DAV_ALLOW_PRIVATE_URLS). The check runs where the socket is opened, on the very DNS answer the socket
 * uses, so a name that resolves to a public address for a first check and to a private one a moment later
 * (DNS rebinding) is still refused.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { Readable } from 'node:stream'
import ipaddr from 'ipaddr.js'

/** Why a URL was refused. */
export type UnsafeUrlReason = 'scheme' | 'credentials-in-url' | 'private-address' | 'unresolvable' | 'malformed'

/** A URL the outbound guard refuses to fetch; `reason` says why (the message is safe to show the user: it never holds credentials). */
export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError'
  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
  ) {
    super(message)
  }
}

/** A resolver's answer: every address of a host name (what `dns.lookup(host, { all: true })` gives). */
export type OutboundLookup = (hostname: string) => Promise<{ address: string; family: number }[]>

/** How the guard behaves: create one guarded fetch per process and setting (it holds a connection pool). */
export interface OutboundOptions {
  /** true: private, loopback, link-local … addresses are allowed (DAV_ALLOW_PRIVATE_URLS; tests, self-hosters). */
  allowPrivate: boolean
  /** The longest one request may wait on the server in all, in ms: to the headers, redirects included, and for the body's bytes while they are read (the caller's time between reads is not counted). */
  timeoutMs: number
  /** Resolves host names (default: the system resolver, `dns.lookup` with `all: true`); tests inject answers. */
  lookup?: OutboundLookup
  /**
   * true: link-local addresses (169.254.0.0/16 with the cloud metadata address 169.254.169.254, fe80::/10, and every
   * IPv6 form reaching them: mapped, NAT64, 6to4, Teredo) and the other cloud metadata addresses are refused even when
   * `allowPrivate` is (webhooks: WEBHOOKS_ALLOW_PRIVATE_URLS never opens them). See {@link isLinkLocalAddress}.
   */
  refuseLinkLocal?: boolean
  /** The setting named in refusals as the way to allow private hosts (default DAV_ALLOW_PRIVATE_URLS). */
  allowPrivateSetting?: string
}

/** Most redirects one request follows. */
export const MAX_REDIRECTS = 5

const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number]

/**
 * True when `ip` (an IPv4 or IPv6 literal, optionally with a zone id) is anything but a public unicast address:
 * loopback, RFC 1918, link-local (169.254.0.0/16, fe80::/10), unique-local (fc00::/7), unspecified, CGNAT
 * (100.64.0.0/10), multicast, broadcast, reserved / documentation / benchmarking ranges, IPv4-mapped and
 * IPv4-compatible IPv6 forms, NAT64 (64:ff9b::/96), 6to4, Teredo, and every IPv6 address outside 2000::/3.
 * A string that is not an IP address is treated as private (fail closed). Uses ipaddr.js (an IPv4-mapped
 * address is turned into its IPv4 address, as `process()` does, then `range()`): only 'unicast' passes.
 */
export function isPrivateAddress(ip: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    // Only the forms a socket can really connect to: plain dotted quads and RFC 4291 IPv6 text.
    const bare = ip.replace(/%.*$/, '')
    const family = isIP(bare)
    if (family === 0) return true
    // ipaddr.js reads the IPv4-compatible ::a.b.c.d as if it were IPv4-mapped; the WHATWG URL parser gives the
    // canonical hex form first (::1.0.0.0 is ::100:0).
    parsed = ipaddr.parse(family === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare)
  } catch {
    return true
  }
  if (parsed.kind() === 'ipv6') {
    const parts = (parsed as ipaddr.IPv6).parts
    if (parts.slice(0, 5).every((part) => part === 0)) {
      // ::ffff:a.b.c.d (IPv4-mapped): judged as the IPv4 address it reaches. ::a.b.c.d (IPv4-compatible,
      // deprecated), ::, ::1 and the rest of ::/80: refused.
      if (parts[5] !== 0xffff) return true
      parsed = (parsed as ipaddr.IPv6).toIPv4Address()
    }
  }
  if (parsed.range() !== 'unicast') return true
  if (parsed.kind() === 'ipv6') {
    // ::/8 (IPv4-compatible ::a.b.c.d and the rest of IETF-reserved space), fec0::/10 site-local, and anything
    // not yet allocated for global unicast.
    return !(parsed as ipaddr.IPv6).match(IPV6_GLOBAL_UNICAST)
  }
  return false
}

/** Cloud metadata services outside link-local space: AWS's IPv6 one (fd00:ec2::254) and Alibaba Cloud's (100.100.100.200). */
const METADATA_ADDRESSES = new Set(['fd00:ec2::254', '100.100.100.200'])

/**
 * The IPv4 addresses an IPv6 address reaches through a translation or tunnel, judged as those IPv4 addresses:
 * IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96, and
 * every RFC 6052 position in the local-use 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo (2001::/32: server and client).
 */
function embeddedIPv4(bytes: number[]): number[][] {
  const at = (...indexes: number[]) => indexes.map((index) => bytes[index]!)
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0)
  const word = (index: number) => (bytes[index]! << 8) | bytes[index + 1]!
  const found: number[][] = []
  if (zeros(0, 10) && word(10) === 0xffff) found.push(at(12, 13, 14, 15))
  if (zeros(0, 8) && word(8) === 0xffff && word(10) === 0) found.push(at(12, 13, 14, 15))
  if (zeros(0, 12)) found.push(at(12, 13, 14, 15))
  if (word(0) === 0x64 && word(2) === 0xff9b) {
    if (zeros(4, 12)) found.push(at(12, 13, 14, 15))
    if (word(4) === 1) found.push(at(6, 7, 9, 10), at(7, 9, 10, 11), at(9, 10, 11, 12), at(12, 13, 14, 15))
  }
  if (word(0) === 0x2002) found.push(at(2, 3, 4, 5))
  if (word(0) === 0x2001 && word(2) === 0) found.push(at(4, 5, 6, 7), at(12, 13, 14, 15).map((byte) => byte ^ 0xff))
  return found
}

/**
 * True when `ip` is a link-local address, 169.254.0.0/16 (where cloud metadata services live) or fe80::/10, also
 * through any IPv6 form that reaches an IPv4 address ({@link embeddedIPv4}: mapped, NAT64, 6to4, Teredo...), or a
 * cloud metadata address outside link-local space ({@link METADATA_ADDRESSES}). What `refuseLinkLocal` refuses even
 * when private addresses are allowed. A string that is not an IP address is treated as link-local (fail closed).
 */
export function isLinkLocalAddress(ip: string): boolean {
  try {
    const bare = ip.replace(/%.*$/, '')
    const family = isIP(bare)
    if (family === 0) return true
    // The canonical text first (as isPrivateAddress does): ipaddr.js would read ::a.b.c.d as IPv4-mapped.
    const parsed = ipaddr.parse(family === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare)
    if (METADATA_ADDRESSES.has(parsed.toNormalizedString()) || METADATA_ADDRESSES.has(parsed.toString())) return true
    if (parsed.range() === 'linkLocal') return true
    if (parsed.kind() === 'ipv4') return false
    return embeddedIPv4(parsed.toByteArray()).some((bytes) => {
      const v4 = ipaddr.fromByteArray(bytes)
      return v4.range() === 'linkLocal' || METADATA_ADDRESSES.has(v4.toString())
    })
  } catch {
    return true
  }
}

/** Whether the guard refuses `address` under `options`. */
function refusedAddress(address: string, options: OutboundOptions): boolean {
  if (!options.allowPrivate) return isPrivateAddress(address)
  return options.refuseLinkLocal === true && isLinkLocalAddress(address)
}

const settingOf = (options: OutboundOptions) => options.allowPrivateSetting ?? 'DAV_ALLOW_PRIVATE_URLS'

const systemLookup: OutboundLookup = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)))
  })

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** Resolves `hostname` (or takes the literal) and refuses it when any address is private and private hosts are not allowed. */
async function resolveChecked(hostname: string, options: OutboundOptions): Promise<{ address: string; family: number }[]> {
  const host = stripBrackets(hostname)
  const literal = isIP(host)
  let addresses: { address: string; family: number }[]
  if (literal !== 0) {
    addresses = [{ address: host, family: literal }]
  } else {
    try {
      addresses = await (options.lookup ?? systemLookup)(host)
    } catch {
      throw new UnsafeUrlError('unresolvable', `The host ${host} could not be resolved`)
    }
    if (addresses.length === 0) throw new UnsafeUrlError('unresolvable', `The host ${host} has no address`)
  }
  for (const { address } of addresses) {
    if (refusedAddress(address, options)) {
      throw new UnsafeUrlError('private-address', `The host ${host} resolves to a private or reserved address (${address}), which this server does not fetch${options.allowPrivate ? ' (link-local addresses are never fetched)' : ` (a self-hosted server on a private network: ${settingOf(options)}=true)`}`)
    }
  }
  return addresses
}

function parseChecked(url: string | URL): URL {
  let parsed: URL
  try {
    parsed = new URL(String(url))
  } catch {
    throw new UnsafeUrlError('malformed', 'The URL is not a valid absolute URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UnsafeUrlError('scheme', `Only http and https URLs are fetched (not ${parsed.protocol.slice(0, 20)})`)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UnsafeUrlError('credentials-in-url', 'The URL must not hold a user name or password; give them as credentials')
  }
  if (parsed.hostname === '') throw new UnsafeUrlError('malformed', 'The URL has no host')
  return parsed
}

/**
 * Checks a URL a user gave before it is stored or fetched: parses it, allows http and https only, refuses
 * userinfo (`user:pass@`), resolves the host (every address) and refuses it when any address is private
 * (see {@link isPrivateAddress}) unless `allowPrivate`. Returns the parsed URL.
 * Throws only {@link UnsafeUrlError}. The connection-time check of {@link createOutboundFetch} still applies.
 */
export async function assertPublicUrl(url: string, options: OutboundOptions): Promise<URL> {
  try {
    const parsed = parseChecked(url)
    await resolveChecked(parsed.hostname, options)
    return parsed
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw error
    throw new UnsafeUrlError('malformed', 'The URL could not be checked')
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `dns.lookup`-shaped function for `net.connect`: resolves, checks every address, and hands the socket
 * exactly the addresses that were checked (so the check and the connection use the same answer).
 */
function guardedLookup(options: OutboundOptions) {
  return (hostname: string, lookupOptions: LookupOptions | LookupAllOptions | number, callback: LookupCallback): void => {
    const wanted = typeof lookupOptions === 'number' ? { family: lookupOptions } : lookupOptions
    resolveChecked(hostname, options).then(
      (addresses) => {
        const family = wanted.family === 'IPv4' ? 4 : wanted.family === 'IPv6' ? 6 : (wanted.family ?? 0)
        const usable = family === 4 || family === 6 ? addresses.filter((address) => address.family === family) : addresses
        if (usable.length === 0) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
          return
        }
        if (wanted.all === true) callback(null, usable)
        else callback(null, usable[0]!.address, usable[0]!.family)
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, []),
    )
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

function unwrapFetchError(error: unknown): unknown {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof UnsafeUrlError) return current
    current = current.cause
  }
  return error
}

/** The body of a request as bytes (the kinds the DAV client and oauth4webapi send). */
function bodyBytes(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8')
  if (body instanceof Uint8Array) return Buffer.from(body)
  if (body instanceof ArrayBuffer) return Buffer.from(body)
  throw new TypeError('the outbound fetch sends string, URLSearchParams or byte bodies only')
}

/**
 * The time a request may spend waiting on the server (ms), counted only while it waits: up to the answer's
 * headers, then while the caller reads the body and no bytes are there. A caller that works between reads
 * (the DAV sync writes each page of a long listing) does not spend it; a server that sends slowly does.
 * Spent, it aborts with a `TimeoutError` DOMException, as `AbortSignal.timeout` does.
 */
class WaitBudget {
  private readonly controller = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private since = 0
  readonly signal = this.controller.signal

  constructor(private remainingMs: number) {}

  /** The server is awaited from now. */
  run(): void {
    if (this.timer !== undefined || this.signal.aborted) return
    this.since = performance.now()
    this.timer = setTimeout(() => this.controller.abort(new DOMException('The operation timed out.', 'TimeoutError')), Math.max(0, this.remainingMs))
  }

  /** The server is not awaited (the caller holds the data it has). */
  pause(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.remainingMs -= performance.now() - this.since
  }
}

/** `body` as a stream that spends `budget` only while its reader waits for bytes. */
function budgetedBody(body: ReadableStream<Uint8Array>, budget: WaitBudget): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        budget.run()
        try {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        } finally {
          budget.pause()
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

/** One request over node:http(s) through `agents`, answered as a WHATWG Response whose body streams. */
function send(url: URL, method: string, headers: Headers, body: Buffer | undefined, signal: AbortSignal, agents: { http: HttpAgent; https: HttpsAgent }, budget: WaitBudget): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing: Record<string, string> = {}
    headers.forEach((value, name) => (outgoing[name] = value))
    if (body) outgoing['content-length'] = String(body.length)
    const secure = url.protocol === 'https:'
    const request = (secure ? httpsRequest : httpRequest)(url, { method, headers: outgoing, agent: secure ? agents.https : agents.http, signal }, (incoming: IncomingMessage) => {
      // This runs in node:http's 'response' event: a throw here is an uncaught exception (the process ends), and
      // the promise would never settle. A status the WHATWG Response cannot hold (101 without an upgrade, 0,
      // 600-999: a server may send any three digits) is refused as a failed request; any other surprise too.
      try {
        resolve(toResponse(incoming, method, signal, budget))
      } catch (error) {
        incoming.destroy()
        reject(error)
      }
    })
    request.on('error', (error) => reject((error as { cause?: unknown }).cause instanceof UnsafeUrlError ? (error as { cause: UnsafeUrlError }).cause : error))
    request.end(body)
  })
}

/** An answer's status code the outbound fetch refuses: what a WHATWG Response cannot hold. */
export class InvalidAnswerError extends Error {
  override name = 'InvalidAnswerError'
}

/** The answer `incoming` as a WHATWG Response whose body streams under `budget`. Throws {@link InvalidAnswerError} for a status outside 200..599. */
function toResponse(incoming: IncomingMessage, method: string, signal: AbortSignal, budget: WaitBudget): Response {
  const status = incoming.statusCode ?? 0
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new InvalidAnswerError(`The server answered an invalid HTTP status (${String(status).slice(0, 10)})`)
  const responseHeaders = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item)
  }
  const empty = method === 'HEAD' || status === 204 || status === 304
  if (empty) incoming.resume()
  else {
    // A timeout or abort while the body is read fails the body with the signal's reason, as fetch does.
    const onAbort = () => incoming.destroy(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    incoming.once('close', () => signal.removeEventListener('abort', onAbort))
  }
  return new Response(empty ? null : budgetedBody(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, budget), { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders })
}

/**
 * A `fetch` for user-given URLs: node:http(s) on agents whose sockets resolve through the guard (the
 * resolver's answer is checked and then used for the connection; literal IP hosts are checked before).
 * Not undici: its HTTP/1 client crashes the process with an uncatchable assertion when a server closes
 * the connection while a response body waits to be read (nodejs/undici#5360, fixed only in undici 8,
 * which needs Node 22), and DAV servers such as Radicale close after every response. Redirects (at most {@link MAX_REDIRECTS}) are followed hop by hop
 * through the same guard; the `Authorization` header is dropped on a hop to another origin (as the Fetch
 * standard does); `redirect: 'manual'` returns the 3xx itself. The time spent waiting on the server (to the
 * headers, and for the body's bytes while the caller reads) is bounded by `timeoutMs` in all, redirects
 * included ({@link WaitBudget}; merged with the caller's `signal`; a timeout rejects, or fails the body,
 * with a `TimeoutError` DOMException): a caller may take its time between reads of a long answer.
 * A refused URL or host rejects with {@link UnsafeUrlError}; other network failures reject with the socket's error.
 */
export function createOutboundFetch(options: OutboundOptions): typeof fetch {
  const lookup = guardedLookup(options) as never
  const agents = { http: new HttpAgent({ keepAlive: true, lookup }), https: new HttpsAgent({ keepAlive: true, lookup }) }

  const guardedFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) throw new TypeError('createOutboundFetch takes a URL and an init, not a Request')
    const budget = new WaitBudget(options.timeoutMs)
    const signal = init.signal ? AbortSignal.any([init.signal, budget.signal]) : budget.signal
    let url = parseChecked(input)
    let method = (init.method ?? 'GET').toUpperCase()
    let body = init.body
    const headers = new Headers(init.headers)
    const mode = init.redirect ?? 'follow'
    for (let hop = 0; ; hop++) {
      // IP literals never reach the socket's lookup: check them here.
      const host = stripBrackets(url.hostname)
      if (isIP(host) !== 0 && refusedAddress(host, options)) {
        throw new UnsafeUrlError('private-address', `The host ${host} is a private or reserved address, which this server does not fetch${options.allowPrivate ? ' (link-local addresses are never fetched)' : ` (a self-hosted server on a private network: ${settingOf(options)}=true)`}`)
      }
      let response: Response
      budget.run()
      try {
        response = await send(url, method, headers, bodyBytes(body), signal, agents, budget)
      } catch (error) {
        // node:http rejects an aborted request with its own AbortError: give the signal's reason, as fetch
        // does (the budget's TimeoutError, or the caller's reason).
        if (signal.aborted) throw signal.reason
        throw unwrapFetchError(error)
      } finally {
        budget.pause()
      }
      if (!REDIRECT_STATUSES.has(response.status) || mode === 'manual') return response
      const location = response.headers.get('location')
      if (location === null) return response
      await response.body?.cancel().catch(() => {})
      if (mode === 'error') throw new TypeError(`Redirected from ${url.origin}${url.pathname} with redirect: 'error'`)
      if (hop >= MAX_REDIRECTS) throw new TypeError(`More than ${MAX_REDIRECTS} redirects from ${url.origin}${url.pathname}`)
      let next: URL
      try {
        next = parseChecked(new URL(location, url))
      } catch (error) {
        if (error instanceof UnsafeUrlError) throw error
        throw new UnsafeUrlError('malformed', 'A redirect pointed at a malformed URL')
      }
      if (next.origin !== url.origin) headers.delete('authorization')
      // Fetch standard §4.4: 303 (any method but HEAD) and 301/302 after POST become a GET without a body.
      if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
        headers.delete('content-type')
        headers.delete('content-length')
      } else if (body instanceof ReadableStream) {
        throw new TypeError('A streamed request body cannot be sent again after a redirect')
      }
      url = next
    }
  }
  return guardedFetch as typeof fetch
}
