/**
 * Account credentials at rest (issue 15): sealed with AES-256-GCM under a key derived from SECRET_KEY, so the
 * database never holds a password or token in clear. The sealed text is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url parts); opening it checks the tag (tamper / wrong key) and the JSON shape.
 */
import { sealedBox } from '../crypto/sealed-box.ts'
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

const box = sealedBox('suggestions-server/credential-box', 'dav-credentials-v1')

/**
 * Seals `credentials` under `secretKey` (SECRET_KEY): AES-256-GCM with a key from HKDF-SHA256 (RFC 5869,
 * info 'dav-credentials-v1') and a random 12-byte IV. Returns `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
export function sealCredentials(secretKey: string, credentials: DavCredentials): string {
  const plain = Buffer.from(JSON.stringify(credentialsSchema.parse(credentials)), 'utf8')
  try {
    return box.seal(secretKey, plain)
  } finally {
    plain.fill(0)
  }
}

/** Opens what {@link sealCredentials} sealed. Throws {@link CredentialBoxError} on a bad format, a wrong key, tampering or a bad shape. */
export function openCredentials(secretKey: string, sealed: string): DavCredentials {
  let plain: Buffer
  try {
    plain = box.open(secretKey, sealed)
  } catch (error) {
    throw new CredentialBoxError(`The credentials cannot be opened: ${error instanceof Error ? error.message : String(error)}`)
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
