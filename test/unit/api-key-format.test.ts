/**
 * The API key format (issue 16): `prm_key_` + 30 base62 + a 6-character CRC32 checksum. Made keys
 * pass; random strings, and every single-character typo or swap of a real key, fail, and are
 * refused by `authenticate` without reaching the database. Scope lists parse or name the unknown scope.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  API_KEY_LENGTH,
  API_KEY_PREFIX,
  apiKeyChecksum,
  displayPrefixOf,
  generateApiKey,
  isWellFormedApiKey,
} from '../../src/auth/api-key-format.ts'
import { DEFAULT_API_KEY_DAYS, parseApiKeyInput } from '../../src/auth/api-keys.ts'
import { authenticate } from '../../src/auth/authenticate.ts'
import { parseScopes, SCOPES } from '../../src/auth/scopes.ts'
import { ClientError } from '../../src/errors.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const base62Char = fc.constantFrom(...BASE62)
/** A string shaped like a key (prefix, length, alphabet) whose checksum is whatever it happens to be. */
const keyShaped = fc.array(base62Char, { minLength: 36, maxLength: 36 }).map((chars) => API_KEY_PREFIX + chars.join(''))

/** A client whose every use is counted, and that fails the test if a query runs. */
function countingPrisma() {
  let queries = 0
  const prisma = new Proxy({}, { get: () => new Proxy({}, { get: () => () => ((queries += 1), Promise.resolve(null)) }) }) as unknown as PrismaClient
  return { prisma, queries: () => queries }
}

describe('the API key format', () => {
  it('makes keys of one length, base62 after the prefix, that pass their own check', () => {
    for (let i = 0; i < 200; i += 1) {
      const key = generateApiKey()
      expect(key).toMatch(/^prm_key_[0-9A-Za-z]{36}$/)
      expect(key).toHaveLength(API_KEY_LENGTH)
      expect(isWellFormedApiKey(key)).toBe(true)
    }
    expect(new Set(Array.from({ length: 1000 }, generateApiKey)).size).toBe(1000)
  })

  it('pads the checksum to 6 characters (CRC32 0 and the largest one)', () => {
    expect(apiKeyChecksum('')).toBe('000000') // CRC32 of nothing is 0
    expect(apiKeyChecksum('a')).toHaveLength(6)
  })

  it('keeps `prm_key_` and 4 random characters for lists', () => {
    const key = generateApiKey()
    expect(displayPrefixOf(key)).toBe(key.slice(0, 12))
    expect(displayPrefixOf(key)).toMatch(/^prm_key_[0-9A-Za-z]{4}$/)
  })

  it('refuses random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (value) => !isWellFormedApiKey(value)), { numRuns: 2000 })
    fc.assert(fc.property(fc.string({ maxLength: 60 }).map((rest) => API_KEY_PREFIX + rest), (value) => !isWellFormedApiKey(value)), { numRuns: 2000 })
    // Right prefix, length and alphabet: only a matching checksum passes (1 in 4.3e9 by chance).
    fc.assert(fc.property(keyShaped, (value) => {
      const random = value.slice(8, 38)
      return isWellFormedApiKey(value) === (value.slice(38) === apiKeyChecksum(random))
    }), { numRuns: 5000 })
  })

  it('refuses every single-character typo and every swap of two different neighbours in a real key', () => {
    const key = generateApiKey()
    for (let at = API_KEY_PREFIX.length; at < key.length; at += 1) {
      for (const char of BASE62) {
        if (char === key[at]) continue
        expect(isWellFormedApiKey(key.slice(0, at) + char + key.slice(at + 1))).toBe(false)
      }
      if (at + 1 < key.length && key[at] !== key[at + 1]) {
        expect(isWellFormedApiKey(key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2))).toBe(false)
      }
    }
    expect(isWellFormedApiKey(key.slice(0, -1))).toBe(false)
    expect(isWellFormedApiKey(`${key}0`)).toBe(false)
  })

  it('authenticate refuses what is not well formed without any query, and never throws', async () => {
    const { prisma, queries } = countingPrisma()
    const now = new Date()
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }).map((rest) => API_KEY_PREFIX + rest), keyShaped), async (value) => {
        if (isWellFormedApiKey(value)) return true
        return (await authenticate(prisma, `Bearer ${value}`, now)) === null
      }),
      { numRuns: 2000 },
    )
    expect(queries()).toBe(0)
    // Anything at all as the header value: null or a credential, never a throw.
    await fc.assert(fc.asyncProperty(fc.anything(), async (value) => (await authenticate(prisma, value, now)) === null), { numRuns: 500 })
  })

  it('hands tokens that are not ours to the OAuth verifier, never a prm_ one', async () => {
    const { prisma } = countingPrisma()
    const seen: string[] = []
    const verifyOAuthToken = async (token: string) => (seen.push(token), null)
    await authenticate(prisma, 'Bearer abc.def.ghi', new Date(), { verifyOAuthToken })
    await authenticate(prisma, `Bearer prm_${'x'.repeat(300)}`, new Date(), { verifyOAuthToken })
    await authenticate(prisma, 'Bearer prm_key_nope', new Date(), { verifyOAuthToken })
    expect(seen).toEqual(['abc.def.ghi'])
  })
})

describe('scope lists', () => {
  it('parses arrays and comma or space separated strings, in SCOPES order, without duplicates', () => {
    expect(parseScopes(['suggestions:subscribe', 'contacts:read', 'contacts:read'])).toEqual(['contacts:read', 'suggestions:subscribe'])
    expect(parseScopes('contacts:read, calendar:write imports:write')).toEqual(['contacts:read', 'calendar:write', 'imports:write'])
    expect(parseScopes([...SCOPES].reverse())).toEqual([...SCOPES])
  })

  it('refuses an unknown scope with BAD_USER_INPUT naming it', () => {
    const refusal = (() => {
      try {
        parseScopes(['contacts:read', 'contacts:delete'], 'input.scopes')
      } catch (error) {
        return error
      }
    })()
    expect(refusal).toBeInstanceOf(ClientError)
    expect(refusal).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.scopes' } })
    expect((refusal as Error).message).toContain('"contacts:delete"')
  })

  it('gives a key 90 days by default, at most 365, and at least one scope', () => {
    const now = new Date('2026-12-01T00:00:00Z')
    expect(parseApiKeyInput({ name: 'ci', scopes: ['contacts:read'] }, now).expiresAt).toEqual(new Date(now.getTime() + DEFAULT_API_KEY_DAYS * 86_400_000))
    expect(DEFAULT_API_KEY_DAYS).toBe(90)
    expect(parseApiKeyInput({ name: 'ci', scopes: ['contacts:read'], expiresInDays: 365 }, now).expiresAt).toEqual(new Date('2027-12-01T00:00:00Z'))
    expect(() => parseApiKeyInput({ name: 'ci', scopes: ['contacts:read'], expiresInDays: 366 }, now)).toThrow(/expiresInDays/)
    expect(() => parseApiKeyInput({ name: 'ci', scopes: [] }, now)).toThrow(/at least one scope/)
  })
})
