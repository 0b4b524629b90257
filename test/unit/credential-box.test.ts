/**
 * Credentials at rest (accounts/credential-box.ts): a round trip for both kinds, tampering and a wrong key refused
 * with CredentialBoxError, a fresh IV each time, and no secret ever readable in the sealed text.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CredentialBoxError, openCredentials, sealCredentials, type DavCredentials } from '../../src/accounts/credential-box.ts'

const key = 'a-test-secret-key-of-at-least-32-characters!'
const basic: DavCredentials = { kind: 'BASIC', username: 'alice@example.com', password: 'app-password-4f9e-secret' }
const bearer: DavCredentials = { kind: 'BEARER', accessToken: 'ya29.access-token', refreshToken: '1//refresh-token', expiresAt: 1_717_000_000_000 }

describe('credential box', () => {
  it('opens what it sealed, for both kinds, in the v1.<iv>.<tag>.<ciphertext> format', () => {
    for (const credentials of [basic, bearer, { ...bearer, refreshToken: null, expiresAt: null }] satisfies DavCredentials[]) {
      const sealed = sealCredentials(key, credentials)
      expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/)
      expect(openCredentials(key, sealed)).toEqual(credentials)
    }
    expect(sealCredentials(key, basic)).not.toBe(sealCredentials(key, basic))
  })

  it('never shows the password or tokens in the sealed text, in any encoding', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), fc.string({ minLength: 8 }), (username, password) => {
        const sealed = sealCredentials(key, { kind: 'BASIC', username, password })
        for (const secret of [password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('base64url'), Buffer.from(password).toString('hex')]) {
          expect(sealed.includes(secret)).toBe(false)
        }
        expect(openCredentials(key, sealed)).toEqual({ kind: 'BASIC', username, password })
      }),
      { numRuns: 300 },
    )
    const sealed = sealCredentials(key, bearer)
    expect(sealed).not.toContain('ya29')
    expect(sealed).not.toContain('refresh-token')
  })

  it('refuses tampered text, a wrong key and a bad format with CredentialBoxError', () => {
    const sealed = sealCredentials(key, basic)
    expect(() => openCredentials('another-secret-key-of-at-least-32-characters', sealed)).toThrow(CredentialBoxError)
    const parts = sealed.split('.')
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url')
      bytes[at % bytes.length]! ^= 1
      return bytes.toString('base64url')
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.nat(), (part, at) => {
        const tampered = [...parts]
        tampered[part] = flip(tampered[part]!, at)
        expect(() => openCredentials(key, tampered.join('.'))).toThrow(CredentialBoxError)
      }),
      { numRuns: 200 },
    )
    for (const bad of ['', 'v1', 'v2.a.b.c', `v1.${parts[1]}.${parts[2]}`, `v1.${parts[1]}.${parts[2]}.${parts[3]}.x`, `v1.!!.${parts[2]}.${parts[3]}`, 'v1.AAAA.AAAA.AAAA']) {
      expect(() => openCredentials(key, bad), bad).toThrow(CredentialBoxError)
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => openCredentials(key, text)).toThrow(CredentialBoxError)
      }),
    )
  })

  it('refuses a well-sealed box whose JSON has the wrong shape', async () => {
    const { createCipheriv, hkdfSync, randomBytes } = await import('node:crypto')
    const derived = Buffer.from(hkdfSync('sha256', Buffer.from(key), Buffer.from('suggestions-server/credential-box'), 'dav-credentials-v1', 32))
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', derived, iv)
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify({ kind: 'BASIC', username: 'a' })), cipher.final()])
    const sealed = ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
    expect(() => openCredentials(key, sealed)).toThrow(/unexpected shape/)
  })
})
