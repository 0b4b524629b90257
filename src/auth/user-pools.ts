/**
 * Which of a user's per-user pools a holder of a per-user place counts in (issue 16, hostile review):
 * the per-user caps of one process (SUBSCRIPTIONS_PER_USER streams, MAX_OPERATIONS_PER_USER operations,
 * EXPORTS_PER_USER downloads) are kept once for the user's own session, once for all their partner
 * credentials together (API keys and OAuth apps), and once for their calendar feed's readers. So a
 * partner that holds every place it may have never refuses the user's own web client (and a calendar
 * app polling the feed never refuses either), while the partner pool still stops the partners
 * together at the same cap. A partner credential is also bounded on its own by its budget (budget.ts).
 */
import type { CredentialKind } from './authenticate.ts'

/** Who holds a per-user place: a credential's kind, or `feed` (the calendar feed's secret URL). */
export type PoolHolder = CredentialKind | 'feed'

/**
 * The key of `userId`'s pool for `holder`: `<userId>` for the user's own session (and when the kind
 * is unknown), `<userId>:partner` for API keys and OAuth apps, `<userId>:feed` for feed fetches.
 */
export function perUserPoolKey(userId: string, holder: PoolHolder | null | undefined): string {
  if (holder === 'apiKey' || holder === 'oauth') return `${userId}:partner`
  if (holder === 'feed') return `${userId}:feed`
  return userId
}
