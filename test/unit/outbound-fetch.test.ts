/**
 * The outbound guard (net/outbound-fetch.ts): which addresses are private (a table and properties over random
 * IPv4 / IPv6 and their mapped forms), URL checks that only ever fail with UnsafeUrlError, and the connection-time
 * check: a name that resolved to a public address for the first check and resolves to a private one when the
 * socket opens (DNS rebinding) is refused; redirects, the timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { assertPublicUrl, createOutboundFetch, InvalidAnswerError, isPrivateAddress, UnsafeUrlError, type OutboundLookup } from '../../src/net/outbound-fetch.ts'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<number> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const fixed = (address: string): OutboundLookup => async () => [{ address, family: address.includes(':') ? 6 : 4 }]

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['0.1.2.3', true],
    ['255.255.255.255', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['192.0.2.1', true],
    ['198.18.0.1', true],
    ['240.0.0.1', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['febf::1', true],
    ['fec0::1', true],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['ff02::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:10.0.0.1', true],
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['::8.8.8.8', true],
    ['64:ff9b::7f00:1', true],
    ['64:ff9b::808:808', true],
    ['64:ff9b:1::1', true],
    ['2002:7f00:1::1', true],
    ['2001::1', true],
    ['2001:db8::1', true],
    ['100::1', true],
    ['0177.0.0.1', true],
    ['2130706433', true],
    ['0x7f.1', true],
    ['localhost', true],
    ['', true],
    ['not an ip', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['93.184.216.34', false],
    ['::ffff:8.8.8.8', false],
    ['2606:4700:4700::1111', false],
    ['2001:4860:4860::8888', false],
    ['2a00:1450:4001:82b::200e', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected)
  })

  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  const dotted = ([a, b, c, d]: [number, number, number, number]) => `${a}.${b}.${c}.${d}`
  const hex = (n: number) => n.toString(16)

  it('gives an IPv4 address and its IPv4-mapped IPv6 forms the same answer', () => {
    fc.assert(
      fc.property(ipv4, (parts) => {
        const [a, b, c, d] = parts
        const expected = isPrivateAddress(dotted(parts))
        expect(isPrivateAddress(`::ffff:${dotted(parts)}`)).toBe(expected)
        expect(isPrivateAddress(`::ffff:${hex(a * 256 + b)}:${hex(c * 256 + d)}`)).toBe(expected)
        expect(isPrivateAddress(`0:0:0:0:0:ffff:${dotted(parts)}`)).toBe(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses every IPv4 in a private, loopback, link-local, CGNAT, multicast or unspecified block, and every IPv4-compatible / NAT64 form', () => {
    const blocks: [number, number, number][] = [
      [10, 0, 8],
      [127, 0, 8],
      [172, 16, 12],
      [192 * 256 + 168, 0, 16],
      [169 * 256 + 254, 0, 16],
      [100, 64, 10],
      [224, 0, 4],
      [0, 0, 8],
    ]
    fc.assert(
      fc.property(fc.constantFrom(...blocks), fc.nat(0xffffffff), fc.nat(0xffffffff), ([prefix, second, bits], random, other) => {
        const base = prefix < 256 ? ((prefix << 24) | (second << 16)) >>> 0 : (prefix << 16) >>> 0
        const mask = bits === 32 ? 0 : 0xffffffff >>> bits
        const address = ((base & ~mask) | (random & mask)) >>> 0
        const parts: [number, number, number, number] = [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255]
        expect(isPrivateAddress(dotted(parts))).toBe(true)
        expect(isPrivateAddress(`::ffff:${dotted(parts)}`)).toBe(true)
        // IPv4-compatible and NAT64 forms of any IPv4, private or not.
        const anyV4: [number, number, number, number] = [other >>> 24, (other >>> 16) & 255, (other >>> 8) & 255, other & 255]
        expect(isPrivateAddress(`::${dotted(anyV4)}`)).toBe(true)
        expect(isPrivateAddress(`64:ff9b::${dotted(anyV4)}`)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses every IPv6 outside global unicast (fc00::/7, fe80::/10, ff00::/8, ::/8) and never throws on any string', () => {
    const group = fc.nat(0xffff)
    fc.assert(
      fc.property(fc.constantFrom(0xfc00, 0xfd00, 0xfe80, 0xfebf, 0xff00, 0x0000, 0x00ff), fc.array(group, { minLength: 7, maxLength: 7 }), (first, rest) => {
        const high = first === 0xfe80 || first === 0xfebf ? first : first | (rest[0]! & 0xff)
        const text = [high, ...rest].map(hex).join(':')
        expect(isPrivateAddress(text)).toBe(true)
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4Extended(), fc.ipV6(), fc.ipV4()), (text) => {
        expect(typeof isPrivateAddress(text)).toBe('boolean')
      }),
      { numRuns: 3000 },
    )
  })
})

describe('assertPublicUrl', () => {
  const options = { allowPrivate: false, timeoutMs: 1000, lookup: fixed('93.184.216.34') }

  it('accepts a public http(s) URL and refuses the rest with a reason', async () => {
    await expect(assertPublicUrl('https://dav.example.com/', options)).resolves.toEqual(new URL('https://dav.example.com/'))
    const reason = (url: string, opts = options) => assertPublicUrl(url, opts).then(() => 'accepted', (error: UnsafeUrlError) => error.reason)
    expect(await reason('ftp://dav.example.com/')).toBe('scheme')
    expect(await reason('file:///etc/passwd')).toBe('scheme')
    expect(await reason('https://alice:secret@dav.example.com/')).toBe('credentials-in-url')
    expect(await reason('not a url')).toBe('malformed')
    expect(await reason('http://127.0.0.1/')).toBe('private-address')
    expect(await reason('http://[::1]:5232/')).toBe('private-address')
    expect(await reason('http://[::ffff:169.254.169.254]/')).toBe('private-address')
    expect(await reason('http://169.254.169.254/latest/meta-data/')).toBe('private-address')
    expect(await reason('http://0x7f.1/')).toBe('private-address')
    expect(await reason('http://2130706433/')).toBe('private-address')
    expect(await reason('https://internal.example.com/', { ...options, lookup: fixed('10.0.0.5') })).toBe('private-address')
    // Any private address among the answers refuses the host.
    const mixed: OutboundLookup = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: 'fd00::1', family: 6 },
    ]
    expect(await reason('https://mixed.example.com/', { ...options, lookup: mixed })).toBe('private-address')
    const failing: OutboundLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })
    }
    expect(await reason('https://nowhere.example.com/', { ...options, lookup: failing })).toBe('unresolvable')
    expect(await reason('https://empty.example.com/', { ...options, lookup: async () => [] })).toBe('unresolvable')
    expect(await reason('http://127.0.0.1:5232/', { ...options, allowPrivate: true })).toBe('accepted')
  })

  it('only ever throws UnsafeUrlError, whatever the string and whatever the resolver answers', async () => {
    const answers = fc.oneof(
      fc.constant<'throw'>('throw'),
      fc.array(fc.record({ address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), family: fc.constantFrom(4, 6) }), { maxLength: 3 }),
    )
    const urls = fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.webUrl().map((url) => url.replace('://', '://user:pw@')), fc.constantFrom('javascript:alert(1)', 'http://[::1', 'http://%zz/', 'http://a b/', '//host/path'))
    await fc.assert(
      fc.asyncProperty(urls, answers, fc.boolean(), async (url, answer, allowPrivate) => {
        const lookup: OutboundLookup = async () => {
          if (answer === 'throw') throw new Error('resolver failed')
          return answer
        }
        try {
          const parsed = await assertPublicUrl(url, { allowPrivate, timeoutMs: 1000, lookup })
          expect(['http:', 'https:']).toContain(parsed.protocol)
          expect(parsed.username).toBe('')
        } catch (error) {
          expect(error).toBeInstanceOf(UnsafeUrlError)
        }
      }),
      { numRuns: 1500 },
    )
  })
})

describe('createOutboundFetch', () => {
  it('refuses at connection time a name that resolved publicly for the first check and privately when the socket opens (DNS rebinding)', async () => {
    let hits = 0
    const port = await serve((_, response) => {
      hits++
      response.end('internal secret')
    })
    let calls = 0
    const rebinding: OutboundLookup = async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }]
    const options = { allowPrivate: false, timeoutMs: 5000, lookup: rebinding }
    const url = `http://rebind.example.test:${port}/`
    await expect(assertPublicUrl(url, options)).resolves.toBeInstanceOf(URL)
    const error = await createOutboundFetch(options)(url).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnsafeUrlError)
    expect((error as UnsafeUrlError).reason).toBe('private-address')
    expect(calls).toBe(2)
    expect(hits).toBe(0)
  })

  it('connects to exactly the address the checked answer gave (allowed when private URLs are on)', async () => {
    const port = await serve((request, response) => response.end(`host ${request.headers.host}`))
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 5000, lookup: fixed('127.0.0.1') })
    const response = await guarded(`http://dav.example.test:${port}/`)
    expect(await response.text()).toBe(`host dav.example.test:${port}`)
  })

  it('refuses literal private IP hosts without connecting, in every spelling', async () => {
    let hits = 0
    const port = await serve((_, response) => {
      hits++
      response.end()
    })
    const guarded = createOutboundFetch({ allowPrivate: false, timeoutMs: 5000 })
    for (const url of [`http://127.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://0x7f000001:${port}/`, `http://[::1]:${port}/`, 'http://169.254.169.254/latest/meta-data/']) {
      const error = await guarded(url).catch((caught: unknown) => caught)
      expect(error, url).toBeInstanceOf(UnsafeUrlError)
    }
    expect(hits).toBe(0)
    await expect(guarded('ftp://example.com/')).rejects.toMatchObject({ reason: 'scheme' })
    await expect(guarded('http://u:p@example.com/')).rejects.toMatchObject({ reason: 'credentials-in-url' })
  })

  it('follows at most 5 redirects, checks each hop, and drops Authorization on another origin', async () => {
    const seen: { path: string; authorization: string | undefined; method: string | undefined }[] = []
    let otherPort = 0
    const port = await serve((request, response) => {
      seen.push({ path: request.url!, authorization: request.headers.authorization, method: request.method })
      const hop = Number(/^\/hop\/(\d+)$/.exec(request.url!)?.[1] ?? -1)
      if (hop >= 0) response.writeHead(307, { location: `/hop/${hop + 1}` }).end()
      else if (request.url === '/ftp') response.writeHead(302, { location: 'ftp://example.com/' }).end()
      else if (request.url === '/away') response.writeHead(308, { location: `http://localhost:${otherPort}/there` }).end()
      else if (request.url === '/see-other') response.writeHead(303, { location: '/done' }).end()
      else response.end('done')
    })
    otherPort = await serve((request, response) => {
      seen.push({ path: `other${request.url}`, authorization: request.headers.authorization, method: request.method })
      response.end('other')
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 5000 })
    await expect(guarded(`http://127.0.0.1:${port}/hop/0`)).rejects.toThrow(/More than 5 redirects/)
    expect(seen.filter((entry) => entry.path.startsWith('/hop/'))).toHaveLength(6)
    await expect(guarded(`http://127.0.0.1:${port}/ftp`)).rejects.toMatchObject({ reason: 'scheme' })

    seen.length = 0
    const response = await guarded(`http://127.0.0.1:${port}/away`, { method: 'PROPFIND', headers: { authorization: 'Basic c2VjcmV0', depth: '0' }, body: '<x/>' })
    expect(await response.text()).toBe('other')
    expect(seen).toEqual([
      { path: '/away', authorization: 'Basic c2VjcmV0', method: 'PROPFIND' },
      { path: 'other/there', authorization: undefined, method: 'PROPFIND' },
    ])
    const manual = await guarded(`http://127.0.0.1:${port}/away`, { redirect: 'manual' })
    expect(manual.status).toBe(308)
    seen.length = 0
    await (await guarded(`http://127.0.0.1:${port}/see-other`, { method: 'POST', body: 'x' })).text()
    expect(seen.map((entry) => entry.method)).toEqual(['POST', 'GET'])
  })

  it('bounds the time spent waiting on the server by timeoutMs: a body that never ends, or drips, fails; a caller between reads spends none', async () => {
    let release = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    const port = await serve((request, response) => {
      response.writeHead(200)
      response.write('partial')
      if (request.url === '/drip') {
        const timer = setInterval(() => response.write('.'), 50)
        response.once('close', () => clearInterval(timer))
      } else if (request.url === '/held') void released.then(() => response.end('-rest'))
      // else: never ends
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 300 })
    const response = await guarded(`http://127.0.0.1:${port}/`)
    await expect(response.text()).rejects.toMatchObject({ name: 'TimeoutError' })
    const caller = new AbortController()
    const pending = guarded(`http://127.0.0.1:${port}/`, { signal: caller.signal }).then((answer) => answer.text())
    caller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })

    // One byte every 50 ms: each wait is short, their sum passes 300 ms.
    await expect((await guarded(`http://127.0.0.1:${port}/drip`)).text()).rejects.toMatchObject({ name: 'TimeoutError' })

    // The caller holds the first chunk for twice the budget (as a sync writing a page of a long listing) and reads on.
    const held = (await guarded(`http://127.0.0.1:${port}/held`)).body!.getReader()
    const first = await held.read()
    await new Promise((resolve) => setTimeout(resolve, 600))
    release()
    let text = new TextDecoder().decode(first.value)
    for (let step = await held.read(); !step.done; step = await held.read()) text += new TextDecoder().decode(step.value)
    expect(text).toBe('partial-rest')
  })
  it('rejects an answer whose status a Response cannot hold (101, 0, 600, 999) instead of crashing the process, and still reads 200..599', async () => {
    // A raw socket: node:http's server would not send such a status line. Any three digits parse on the client side.
    const tcp = createTcpServer((socket) => {
      socket.once('data', (chunk) => {
        const status = /^POST \/(\d+)/.exec(chunk.toString('latin1'))?.[1] ?? '200'
        socket.end(`HTTP/1.1 ${status} Odd\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok`)
      })
    })
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
    servers.push(tcp as unknown as Server)
    const port = (tcp.address() as AddressInfo).port
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 5000 })
    for (const status of ['101', '000', '600', '999']) {
      await expect(guarded(`http://127.0.0.1:${port}/${status}`, { method: 'POST', body: '{}', redirect: 'manual' }), status).rejects.toBeInstanceOf(InvalidAnswerError)
    }
    for (const status of [200, 599]) {
      const answer = await guarded(`http://127.0.0.1:${port}/${status}`, { method: 'POST', body: '{}', redirect: 'manual' })
      expect([answer.status, await answer.text()]).toEqual([status, 'ok'])
    }
  })
})
