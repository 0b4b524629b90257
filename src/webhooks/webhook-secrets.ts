/**
 * Webhook signing secrets (issue 17): made in the Standard Webhooks format (`whsec_` + base64 of 32 random bytes,
 * what the `standardwebhooks` package's `Webhook` class reads), and sealed at rest.
 *
 * Why sealed and not hashed (as API keys are): the server signs every delivery with HMAC-SHA256 keyed by the
 * secret itself, so it must be able to read it back. A hash would make signing impossible. So the secret is
 * encrypted with AES-256-GCM under a key derived from SECRET_KEY (HKDF-SHA256, its own `info`): a copy of the
 * database alone does not give the secrets away.
 */
import { randomBytes } from 'node:crypto'
import { sealedBox } from '../crypto/sealed-box.ts'

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

const box = sealedBox('suggestions-server/webhook-secret', 'webhook-secret-v1')

/** Seals `secret` under `secretKey` (SECRET_KEY): crypto/sealed-box.ts, info `webhook-secret-v1`. */
export function sealWebhookSecret(secretKey: string, secret: string): string {
  return box.seal(secretKey, Buffer.from(secret, 'utf8'))
}

/** Opens what {@link sealWebhookSecret} sealed. Throws {@link WebhookSecretError} on a bad format, a wrong key or tampering. */
export function openWebhookSecret(secretKey: string, sealed: string): string {
  try {
    return box.open(secretKey, sealed).toString('utf8')
  } catch (error) {
    throw new WebhookSecretError(`The webhook secret cannot be opened: ${error instanceof Error ? error.message : String(error)}`)
  }
}
