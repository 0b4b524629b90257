/**
 * What the Accounts page says about an account and its sync, as pure functions: the status
 * label, the progress line of a running sync, and when a followed sync is over.
 */
import type { AccountFields, SyncProgressSubscription } from '../api/documents.ts'
import { formatCount as count } from '../format.ts'
import type { ResultOf } from '../graphql.ts'

export type Account = ResultOf<typeof AccountFields>
export type AccountStatus = Account['status']
export type AccountKind = Account['kind']
export type SyncEvent = ResultOf<typeof SyncProgressSubscription>['syncProgress']

/** How often `accounts` is asked again while a followed sync has no live stream (ms). */
export const POLL_INTERVAL_MS = 3000

/** The label of each status, as shown in the account's badge. */
export const STATUS_LABELS: Record<AccountStatus, string> = {
  OK: 'Connected',
  SYNCING: 'Syncing…',
  NEEDS_REAUTH: 'Needs re-authentication',
  ERROR: 'Sync failed',
}

/** The badge's colour class (styles.css `.badge.ok` / `.warn` / `.error`). */
export const STATUS_TONES: Record<AccountStatus, 'ok' | 'warn' | 'error'> = { OK: 'ok', SYNCING: 'warn', NEEDS_REAUTH: 'error', ERROR: 'error' }

/** "Contacts (CardDAV)" / "Calendars (CalDAV)". */
export const KIND_LABELS: Record<AccountKind, string> = { CARDDAV: 'Contacts (CardDAV)', CALDAV: 'Calendars (CalDAV)' }

/** What the collections of a kind are called: "address books" for CardDAV (RFC 6352), "calendars" for CalDAV (RFC 4791). */
export const COLLECTION_NOUNS: Record<AccountKind, { one: string; many: string }> = {
  CARDDAV: { one: 'address book', many: 'address books' },
  CALDAV: { one: 'calendar', many: 'calendars' },
}

/** "1 address book", "3 calendars", "no address books". */
export function collectionCount(kind: AccountKind, n: number): string {
  const noun = COLLECTION_NOUNS[kind]
  if (n === 0) return `no ${noun.many}`
  return `${count(n)} ${n === 1 ? noun.one : noun.many}`
}

/** "1,965 contacts" for a CardDAV account, "12 events" for a CalDAV one. */
export function countsText(account: Pick<Account, 'kind' | 'counts'>): string {
  if (account.kind === 'CARDDAV') return `${count(account.counts.contacts)} ${account.counts.contacts === 1 ? 'contact' : 'contacts'}`
  return `${count(account.counts.events)} ${account.counts.events === 1 ? 'event' : 'events'}`
}

/** A collection's name: its display name, else the last segment of its URL. */
export function collectionName(account: Pick<Account, 'collections'>, url: string | null | undefined): string {
  if (!url) return ''
  const found = account.collections.find((collection) => collection.url === url)
  if (found?.displayName) return found.displayName
  const segments = url.split('/').filter(Boolean)
  return decodeURIComponentSafe(segments.at(-1) ?? url)
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The progress line of a sync from its latest event: "Sync started…", "Listing Family…",
 * "Reading Family: 200 of 2,000…", "Family done.", or null when the event says nothing about
 * a running sync (CURRENT, FINISHED).
 */
export function progressText(event: Pick<SyncEvent, 'phase' | 'collectionUrl' | 'done' | 'total' | 'account'>): string | null {
  const name = collectionName(event.account, event.collectionUrl)
  const of = event.total === null || event.total === undefined ? `${count(event.done)} so far` : `${count(event.done)} of ${count(event.total)}`
  switch (event.phase) {
    case 'STARTED':
      return 'Sync started…'
    case 'LISTING':
      return `Listing ${name}…`
    case 'READING':
      return `Reading ${name}: ${of}…`
    case 'WRITING':
      return `Writing changes to ${name}: ${of}…`
    case 'DONE':
      return `${name} done.`
    case 'CURRENT':
    case 'FINISHED':
      return null
  }
}

/** What a followed sync has seen so far. */
export interface Following {
  /** The user asked for it: the account's `lastSyncedAt` then (a later one means a run succeeded since). Absent: followed because the account was already syncing. */
  requested?: { lastSyncedAt: string | null }
  /** The account was seen SYNCING since following began. */
  sawSyncing: boolean
}

/**
 * Whether a followed sync is over, given the account as last seen and the latest event's phase:
 * a FINISHED event; or the account no longer SYNCING after it was seen syncing, or with a
 * `lastSyncedAt` other than at the request (a run that finished before the stream opened; no
 * clock is compared), or — when nobody asked for it — at once.
 */
export function syncIsOver(following: Following, account: Pick<Account, 'status' | 'lastSyncedAt'>, phase: SyncEvent['phase'] | null): boolean {
  if (phase === 'FINISHED') return true
  if (account.status === 'SYNCING') return false
  if (following.sawSyncing || !following.requested) return true
  return (account.lastSyncedAt ?? null) !== following.requested.lastSyncedAt
}
