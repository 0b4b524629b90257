/**
 * The webhook URL check (webhooks/webhook-url.ts): what it accepts and refuses, and a property: whatever string
 * (or value) a client sends, and whatever the resolver answers, it either returns a URL or throws a ClientError
 * BAD_USER_INPUT naming `input.url`: never another error (a 500).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ClientError } from '../../src/errors.ts'
import { isLinkLocalAddress } from '../../src/net/outbound-fetch.ts'
import { checkWebhookUrl, createWebhookFetch, MAX_WEBHOOK_URL_LENGTH, type WebhookUrlPolicy } from '../../src/webhooks/webhook-url.ts'
import { UnsafeUrlError } from '../../src/net/outbound-fetch.ts'
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts'

const PUBLIC = '93.184.215.14'
const resolvesTo = (...addresses: string[]): WebhookUrlPolicy['lookup'] => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
const production = (lookup = resolvesTo(PUBLIC)): WebhookUrlPolicy => ({ production: true, allowPrivate: false, lookup })
const development = (allowPrivate: boolean, lookup = resolvesTo(PUBLIC)): WebhookUrlPolicy => ({ production: false, allowPrivate, lookup })

async function refusal(url: unknown, policy: WebhookUrlPolicy): Promise<ClientError> {
  try {
    await checkWebhookUrl(url, policy)
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError)
    return error as ClientError
  }
  throw new Error(`accepted ${String(url)}`)
}

describe('checkWebhookUrl', () => {
  it('accepts a public https URL, normalized', async () => {
    expect(await checkWebhookUrl(' https://Hooks.Example.com/in?x=1 ', production())).toBe('https://hooks.example.com/in?x=1')
  })

  it('takes plain http outside production only', async () => {
    expect(await checkWebhookUrl('http://hooks.example.com/in', development(false))).toBe('http://hooks.example.com/in')
    expect((await refusal('http://hooks.example.com/in', production())).message).toMatch(/https/)
  })

  it.each([
    ['another scheme', 'ftp://hooks.example.com/'],
    ['credentials', 'https://user:pw@hooks.example.com/'],
    ['a fragment', 'https://hooks.example.com/#x'],
    ['a relative URL', '/hooks'],
    ['an empty string', '   '],
    ['a NUL character', 'https://hooks.example.com/\u0000'],
    ['a too long URL', `https://hooks.example.com/${'x'.repeat(MAX_WEBHOOK_URL_LENGTH)}`],
    ['a number', 42],
  ])('refuses %s with BAD_USER_INPUT naming input.url', async (_label, url) => {
    expect(await refusal(url, production())).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.url' } })
  })

  it.each([
    ['loopback', '127.0.0.1'],
    ['RFC 1918', '10.1.2.3'],
    ['RFC 1918', '192.168.0.10'],
    ['unique-local', 'fd00::1'],
    ['unspecified', '0.0.0.0'],
    ['metadata', '169.254.169.254'],
    ['IPv6 loopback', '::1'],
  ])('refuses a host resolving to a %s address (%s) without WEBHOOKS_ALLOW_PRIVATE_URLS', async (_label, address) => {
    const error = await refusal('https://hooks.example.com/in', production(resolvesTo(PUBLIC, address)))
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.url' } })
    expect(error.message).toContain('WEBHOOKS_ALLOW_PRIVATE_URLS')
  })

  it('lets loopback and private hosts through with WEBHOOKS_ALLOW_PRIVATE_URLS, never link-local', async () => {
    expect(await checkWebhookUrl('http://127.0.0.1:8080/in', development(true))).toBe('http://127.0.0.1:8080/in')
    expect(await checkWebhookUrl('http://intranet/in', development(true, resolvesTo('10.0.0.5')))).toBe('http://intranet/in')
    for (const address of ['169.254.169.254', 'fe80::1', '::ffff:169.254.1.1']) {
      expect(await refusal('http://metadata.internal/', development(true, resolvesTo(address)))).toMatchObject({ code: 'BAD_USER_INPUT' })
    }
    expect(await refusal('http://169.254.169.254/', development(true))).toMatchObject({ code: 'BAD_USER_INPUT' })
    expect(await refusal('http://[fe80::1]/', development(true))).toMatchObject({ code: 'BAD_USER_INPUT' })
  })

  it('never lets WEBHOOKS_ALLOW_PRIVATE_URLS reach link-local or cloud metadata through NAT64, 6to4, Teredo, IPv4-compatible forms or IPv6 metadata', async () => {
    const forms = ['64:ff9b::a9fe:a9fe', '64:ff9b::169.254.169.254', '64:ff9b:1::a9fe:a9fe', '::a9fe:a9fe', '::ffff:0:a9fe:a9fe', '2002:a9fe:a9fe::1', '2001:0:a9fe:a9fe::1', '2001:0:1:2::5601:5601', 'fd00:ec2::254', '100.100.100.200']
    for (const address of forms) {
      expect(await refusal('http://metadata.internal/', development(true, resolvesTo(address))), address).toMatchObject({ code: 'BAD_USER_INPUT' })
      expect(await refusal(`http://${address.includes(':') ? `[${address}]` : address}/`, development(true)), address).toMatchObject({ code: 'BAD_USER_INPUT' })
    }
    // Their private (not link-local) counterparts stay allowed with the setting.
    for (const address of ['64:ff9b::a00:1', '2002:a00:1::1', 'fd00:ec2::253', '10.0.0.1']) expect(await checkWebhookUrl('http://intranet/in', development(true, resolvesTo(address))), address).toBe('http://intranet/in')
  })

  it('property: every IPv6 form that reaches an address of 169.254.0.0/16 is link-local', () => {
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (c, d) => {
        const [low, tail, xored] = [hex(169, 254), hex(c, d), hex(169 ^ 0xff, 254 ^ 0xff)]
        for (const form of [`::ffff:${low}:${tail}`, `::${low}:${tail}`, `64:ff9b::${low}:${tail}`, `64:ff9b:1::${low}:${tail}`, `2002:${low}:${tail}::1`, `2001:0:${low}:${tail}::1`, `2001:0:1:2::${xored}:${hex(c ^ 0xff, d ^ 0xff)}`, `::ffff:0:${low}:${tail}`]) {
          expect(isLinkLocalAddress(form), form).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('refuses a host that does not resolve', async () => {
    const error = await refusal('https://nowhere.invalid/', production(async () => Promise.reject(new Error('ENOTFOUND'))))
    expect(error.message).toMatch(/could not be resolved/)
  })

  it('isLinkLocalAddress: 169.254/16 and fe80::/10 (mapped too), nothing else', () => {
    expect(['169.254.0.1', '169.254.169.254', 'fe80::1', 'febf::1', '::ffff:169.254.9.9', 'fe80::1%eth0'].map(isLinkLocalAddress)).toEqual([true, true, true, true, true, true])
    expect(['127.0.0.1', '10.0.0.1', '8.8.8.8', '::1', 'fd00::1', 'fec0::1'].map(isLinkLocalAddress)).toEqual([false, false, false, false, false, false])
  })

  it('property: any input and any resolver answer give a URL or a ClientError BAD_USER_INPUT, never another error', async () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('169.254.169.254', '127.0.0.1', 'fe80::1', '::ffff:10.0.0.1', 'garbage', ''))
    const input = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom('http://', 'https://', 'ftp://', 'HTTPS://', 'http://[', 'https://u:p@'), fc.string({ maxLength: 200 })).map(([a, b]) => a + b),
      fc.anything(),
    )
    await fc.assert(
      fc.asyncProperty(input, fc.array(address, { maxLength: 3 }), fc.boolean(), fc.boolean(), async (url, addresses, isProduction, allowPrivate) => {
        const lookup: WebhookUrlPolicy['lookup'] = async () => addresses.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4 }))
        try {
          const checked = await checkWebhookUrl(url, { production: isProduction, allowPrivate, lookup })
          expect(checked.length).toBeLessThanOrEqual(MAX_WEBHOOK_URL_LENGTH)
          expect(checked).toMatch(isProduction ? /^https:\/\// : /^https?:\/\//)
        } catch (error) {
          expect(error).toBeInstanceOf(ClientError)
          expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.url' } })
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('createWebhookFetch', () => {
  it('in production refuses an http URL stored in development, without connecting; https only', async () => {
    const receiver = await startWebhookReceiver()
    try {
      const refused = createWebhookFetch({ production: true, allowPrivate: true }, 5000)(receiver.url, { method: 'POST', body: '{}' })
      await expect(refused).rejects.toBeInstanceOf(UnsafeUrlError)
      await expect(refused).rejects.toMatchObject({ reason: 'scheme' })
      expect(receiver.received).toHaveLength(0)
      // Outside production the same URL is delivered.
      expect((await createWebhookFetch({ production: false, allowPrivate: true }, 5000)(receiver.url, { method: 'POST', body: '{}' })).status).toBe(200)
      expect(receiver.received).toHaveLength(1)
    } finally {
      await receiver.close()
    }
  })
})
