/**
 * The event types a webhook endpoint can subscribe to (issue 17): the fixed list, in the order the docs show them.
 */

/** Every event type, in the order the docs list them. */
export const WEBHOOK_EVENT_TYPES = ['suggestions.updated', 'contact.created', 'contact.updated', 'contact.archived', 'interaction.logged'] as const

/** One of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

const KNOWN: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES)

/** Whether `value` is one of {@link WEBHOOK_EVENT_TYPES}. */
export function isWebhookEventType(value: string): value is WebhookEventType {
  return KNOWN.has(value)
}

/** The event type a test delivery (`sendTestWebhook`) carries: not subscribable, sent to one endpoint on demand. */
export const TEST_EVENT_TYPE = 'webhook.test'
