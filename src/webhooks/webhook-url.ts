/**
 * The check of a webhook endpoint's URL (issue 17), at creation and update: an absolute https URL (plain http only
 * outside production), at most {@link MAX_WEBHOOK_URL_LENGTH} characters, no credentials, no fragment, and a host
 * the outbound guard (net/outbound-fetch.ts) lets the server reach: not loopback, private, unique-local or
 * unspecified unless WEBHOOKS_ALLOW_PRIVATE_URLS, and never link-local. Every delivery checks again where its
 * socket connects (DNS rebinding).
 */
import { badUserInput, type ClientError } from '../errors.ts'
import { isStorableText } from '../validation.ts'
import { assertPublicUrl, createOutboundFetch, UnsafeUrlError, type OutboundLookup } from '../net/outbound-fetch.ts'

/** The longest URL an endpoint may have, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048

/** What the check depends on. */
export interface WebhookUrlPolicy {
  /** Production: https only. */
  production: boolean
  /** WEBHOOKS_ALLOW_PRIVATE_URLS. */
  allowPrivate: boolean
  /** Resolves host names (default: the system resolver); tests inject answers. */
  lookup?: OutboundLookup
}

/** The outbound guard's options for webhooks under `policy` (link-local always refused). */
export function webhookOutboundOptions(policy: WebhookUrlPolicy, timeoutMs: number) {
  return {
    allowPrivate: policy.allowPrivate,
    refuseLinkLocal: true,
    allowPrivateSetting: 'WEBHOOKS_ALLOW_PRIVATE_URLS',
    timeoutMs,
    ...(policy.lookup ? { lookup: policy.lookup } : {}),
  }
}

/**
 * The fetch of deliveries under `policy`: the outbound guard ({@link webhookOutboundOptions}, `timeoutMs` waiting
 * on the receiver), and in production https only, also for an http URL stored while the server ran in development
 * (the attempt fails with an UnsafeUrlError, logged, and is retried on the schedule like any refused address).
 */
export function createWebhookFetch(policy: WebhookUrlPolicy, timeoutMs: number): typeof fetch {
  const guarded = createOutboundFetch(webhookOutboundOptions(policy, timeoutMs))
  if (!policy.production) return guarded
  return (async (input, init) => {
    if (new URL(input instanceof Request ? input.url : String(input)).protocol !== 'https:') {
      throw new UnsafeUrlError('scheme', 'A plain http URL is not sent to in production: change the endpoint URL to https')
    }
    return guarded(input, init)
  }) as typeof fetch
}

/**
 * Checks `url` for an endpoint and returns it normalized (WHATWG serialization).
 *
 * @throws ClientError BAD_USER_INPUT naming `field` (and nothing else), with the reason in the message.
 */
export async function checkWebhookUrl(url: unknown, policy: WebhookUrlPolicy, field = 'input.url'): Promise<string> {
  const refuse = (why: string): ClientError => badUserInput(`${field}: ${why}`, field)
  if (typeof url !== 'string') throw refuse('must be a string')
  const trimmed = url.trim()
  if (trimmed.length === 0) throw refuse('must not be empty')
  if (trimmed.length > MAX_WEBHOOK_URL_LENGTH) throw refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  if (!isStorableText(trimmed)) throw refuse('must be Unicode text without NUL characters')
  let parsed: URL
  try {
    parsed = new URL(trimmed)
  } catch {
    throw refuse('must be an absolute URL, e.g. https://example.com/webhooks')
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && !policy.production)) {
    throw refuse(policy.production ? 'must be an https URL' : 'must be an http or https URL')
  }
  if (parsed.hash !== '') throw refuse('must not have a fragment (#...)')
  const normalized = parsed.href
  if (normalized.length > MAX_WEBHOOK_URL_LENGTH) throw refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  try {
    await assertPublicUrl(normalized, webhookOutboundOptions(policy, 0))
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw refuse(error.message)
    throw refuse('could not be checked')
  }
  return normalized
}
