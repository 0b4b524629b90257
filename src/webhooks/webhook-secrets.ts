/**
 * Webhook signing secrets (issue 17): made in the Standard Webhooks format (`whsec_` + base64 of 32 random bytes,
 * what the `standardwebhooks` package's `Webhook` class reads), and sealed at rest.
 *
 * Why sealed and not hashed (as API keys are): the server signs every delivery with HMAC-SHA256 keyed by the
 * secret itself, so it must be able to read it back. A hash would make signing impossible. So the secret is
 * encrypted with AES-256-GCM under a key derived from SECRET_KEY (HKDF-SHA256, its own `info`): a copy of the
 * database alone does not give the secrets away.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** The prefix of a Standard Webhooks secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_'
/** Random bytes in a secret (the specification asks for 24 to 64). */
export const WEBHOOK_SECRET_BYTES = 32

/** A new secret: `whsec_` + standard base64 of {@link WEBHOOK_SECRET_BYTES} random bytes. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`
}

/** A sealed secret that cannot be opened: tampered with, sealed under another SECRET_KEY, or not a sealed secret. */
export class WebhookSecretError extends Error {
  override name = 'WebhookSecretError'
}

const VERSION = 'v1'
const SALT = Buffer.from('suggestions-server/webhook-secret')
const INFO = 'webhook-secret-v1'
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

/** Seals `secret` under `secretKey` (SECRET_KEY): `v1.<iv>.<tag>.<ciphertext>`, base64url parts, AES-256-GCM. */
export function sealWebhookSecret(secretKey: string, secret: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secretKey), iv)
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
}

/** Opens what {@link sealWebhookSecret} sealed. Throws {@link WebhookSecretError} on a bad format, a wrong key or tampering. */
export function openWebhookSecret(secretKey: string, sealed: string): string {
  const parts = sealed.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) throw new WebhookSecretError('Not a sealed webhook secret (v1)')
  const iv = Buffer.from(parts[1]!, 'base64url')
  const tag = Buffer.from(parts[2]!, 'base64url')
  if (iv.length !== 12 || tag.length !== 16) throw new WebhookSecretError('Not a sealed webhook secret (iv or tag length)')
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secretKey), iv, { authTagLength: 16 })
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new WebhookSecretError('The webhook secret cannot be opened: tampered with, or sealed under another SECRET_KEY')
  }
}
