/**
 * Account credentials at rest: AES-256-GCM (NIST SP 800-38D) under a key derived from SECRET_KEY
 * with HKDF-SHA256 (RFC 5869; info `dav-credentials-v1`, so the cursor MAC key and this one never
 * coincide). A sealed box is `v1.<iv>.<tag>.<ciphertext>` in base64url, a fresh 96-bit IV each time;
 * it never holds anything in clear.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { z } from 'zod'

/** How an account signs in: an app password (HTTP Basic), or an OAuth 2.0 bearer token with its refresh token. */
export type DavCredentials =
  | { kind: 'BASIC'; username: string; password: string }
  | { kind: 'BEARER'; accessToken: string; refreshToken: string | null; expiresAt: number | null }

/** A box that does not open: another SECRET_KEY, tampered, or not a box at all. */
export class CredentialBoxError extends Error {
  override name = 'CredentialBoxError'
}

const credentialsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('BASIC'), username: z.string(), password: z.string() }),
  z.object({ kind: z.literal('BEARER'), accessToken: z.string(), refreshToken: z.string().nullable(), expiresAt: z.number().nullable() }),
])

const VERSION = 'v1'

const keys = new Map<string, Buffer>()
function keyOf(secretKey: string): Buffer {
  let key = keys.get(secretKey)
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secretKey, 'suggestions-server', 'dav-credentials-v1', 32))
    keys.set(secretKey, key)
  }
  return key
}

/** Seals `credentials` under `secretKey` (SECRET_KEY, at least 32 characters). */
export function sealCredentials(secretKey: string, credentials: DavCredentials): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyOf(secretKey), iv)
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
}

/** Opens a box sealed by {@link sealCredentials}. Throws {@link CredentialBoxError} when it does not open. */
export function openCredentials(secretKey: string, sealed: string): DavCredentials {
  const [version, iv, tag, ciphertext, ...rest] = sealed.split('.')
  if (version !== VERSION || !iv || !tag || ciphertext === undefined || rest.length > 0) throw new CredentialBoxError('not a sealed credential box')
  let plaintext: string
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secretKey), Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new CredentialBoxError('the credentials do not open with this SECRET_KEY (another key, or tampered)')
  }
  const parsed = credentialsSchema.safeParse(JSON.parse(plaintext))
  if (!parsed.success) throw new CredentialBoxError('the sealed credentials have an unknown shape')
  return parsed.data
}
