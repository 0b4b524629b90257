/**
 * Account credentials at rest (issue 15): sealed with AES-256-GCM under a key derived from SECRET_KEY, so the
 * database never holds a password or token in clear. The sealed text is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url parts); opening it checks the tag (tamper / wrong key) and the JSON shape.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { z } from 'zod'

/**
 * What a DAV account signs in with, the one name for an account's credentials: HTTP Basic with an app
 * password (RFC 7617), or an OAuth 2.0 bearer token (RFC 6750) with its refresh token and expiry (`expiresAt`:
 * ms since the epoch; null: unknown, refreshed on a 401).
 */
export type DavCredentials =
  | { kind: 'BASIC'; username: string; password: string }
  | { kind: 'BEARER'; accessToken: string; refreshToken: string | null; /** epoch ms */ expiresAt: number | null }

/** Sealed credentials that cannot be opened: tampered, sealed under another key, or not a sealed box at all. */
export class CredentialBoxError extends Error {
  override name = 'CredentialBoxError'
}

const credentialsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('BASIC'), username: z.string(), password: z.string() }).strict(),
  z
    .object({
      kind: z.literal('BEARER'),
      accessToken: z.string(),
      refreshToken: z.string().nullable(),
      expiresAt: z.number().finite().nullable(),
    })
    .strict(),
])

const VERSION = 'v1'
// A fixed salt: the key only needs to be separated from SECRET_KEY's other uses, which `info` does (RFC 5869 §3.1).
const SALT = Buffer.from('suggestions-server/credential-box')
const INFO = 'dav-credentials-v1'
const keyCache = new Map<string, Buffer>()

function deriveKey(secretKey: string): Buffer {
  let key = keyCache.get(secretKey)
  if (key === undefined) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), SALT, INFO, 32))
    if (keyCache.size > 8) keyCache.clear()
    keyCache.set(secretKey, key)
  }
  return key
}

/**
 * Seals `credentials` under `secretKey` (SECRET_KEY): AES-256-GCM with a key from HKDF-SHA256 (RFC 5869,
 * info 'dav-credentials-v1') and a random 12-byte IV. Returns `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
export function sealCredentials(secretKey: string, credentials: DavCredentials): string {
  const plain = Buffer.from(JSON.stringify(credentialsSchema.parse(credentials)), 'utf8')
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secretKey), iv)
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
  const tag = cipher.getAuthTag()
  plain.fill(0)
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.')
}

/** Opens what {@link sealCredentials} sealed. Throws {@link CredentialBoxError} on a bad format, a wrong key, tampering or a bad shape. */
export function openCredentials(secretKey: string, sealed: string): DavCredentials {
  const parts = sealed.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) throw new CredentialBoxError('Not a sealed credentials box (v1)')
  const [, ivText, tagText, cipherText] = parts as [string, string, string, string]
  const base64url = /^[A-Za-z0-9_-]*$/
  if (![ivText, tagText, cipherText].every((part) => base64url.test(part))) throw new CredentialBoxError('Not a sealed credentials box (encoding)')
  const iv = Buffer.from(ivText, 'base64url')
  const tag = Buffer.from(tagText, 'base64url')
  if (iv.length !== 12 || tag.length !== 16) throw new CredentialBoxError('Not a sealed credentials box (iv or tag length)')
  let plain: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secretKey), iv, { authTagLength: 16 })
    decipher.setAuthTag(tag)
    plain = Buffer.concat([decipher.update(Buffer.from(cipherText, 'base64url')), decipher.final()])
  } catch {
    throw new CredentialBoxError('The credentials cannot be opened: tampered with, or sealed under another SECRET_KEY')
  }
  let value: unknown
  try {
    value = JSON.parse(plain.toString('utf8'))
  } catch {
    throw new CredentialBoxError('The sealed credentials are not JSON')
  } finally {
    plain.fill(0)
  }
  const parsed = credentialsSchema.safeParse(value)
  if (!parsed.success) throw new CredentialBoxError('The sealed credentials have an unexpected shape')
  return parsed.data
}
