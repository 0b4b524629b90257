/**
 * The headers of a delivery, per the Standard Webhooks specification, made with its reference package
 * (`standardwebhooks`): `webhook-id` (the delivery's id: the same on every attempt, the receiver's idempotency
 * key), `webhook-timestamp` (seconds, the attempt's time) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of
 * `<id>.<timestamp>.<body>` under each secret, space-separated: during a rotation both secrets sign).
 */
import { Webhook } from 'standardwebhooks'

/** The Standard Webhooks headers for `body` sent as delivery `id` at `now`, signed by every secret in `secrets` (whsec_...). */
export function signedHeaders(id: string, now: Date, body: string, secrets: readonly string[]): Record<string, string> {
  if (secrets.length === 0) throw new Error('a delivery needs at least one secret')
  const signatures = secrets.map((secret) => new Webhook(secret).sign(id, now, body))
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  }
}
