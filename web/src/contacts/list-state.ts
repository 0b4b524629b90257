/**
 * The contacts list's state in the URL query string (`?q=ann&sort=due&show=overdue`), so that
 * back and forward bring the same list back, and where it was scrolled to in `history.state`.
 */
import { CIRCLES, type Circle } from '../format.ts'
import { MINUTE_MS } from '../time.ts'
import type { VariablesOf } from '../graphql.ts'
import type { ContactsQuery } from '../api/documents.ts'

export type Filter = NonNullable<VariablesOf<typeof ContactsQuery>['filter']>
export type Order = NonNullable<VariablesOf<typeof ContactsQuery>['orderBy']>

export const SORTS = { name: 'Name', due: 'Next due', last: 'Last contact' } as const
export type Sort = keyof typeof SORTS
export const SHOWS = { all: 'All', overdue: 'Overdue', quiet: 'Not contacted in 3 months' } as const
export type Show = keyof typeof SHOWS

export interface ContactFilters {
  circle: Circle | ''
  /** A group id */
  group: string
  tag: string
  search: string
  /** Only archived contacts (the server's default: only active ones). */
  archived: boolean
  sort: Sort
  show: Show
}

export const DEFAULT_FILTERS: ContactFilters = { circle: '', group: '', tag: '', search: '', archived: false, sort: 'name', show: 'all' }

/** The filters of a query string; what is missing or unknown keeps its default. */
export function filtersFromSearch(search: string): ContactFilters {
  const params = new URLSearchParams(search)
  const pick = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T => (value && (allowed as readonly string[]).includes(value) ? (value as T) : fallback)
  return {
    circle: pick(params.get('circle'), CIRCLES, ''),
    group: params.get('group') ?? '',
    tag: params.get('tag') ?? '',
    search: params.get('q') ?? '',
    archived: params.get('archived') === '1',
    sort: pick(params.get('sort'), Object.keys(SORTS) as Sort[], 'name'),
    show: pick(params.get('show'), Object.keys(SHOWS) as Show[], 'all'),
  }
}

/** `?q=…&circle=…` with only what differs from the defaults ('' when nothing does). */
export function searchOf(filters: ContactFilters): string {
  const params = new URLSearchParams()
  if (filters.search) params.set('q', filters.search)
  if (filters.circle) params.set('circle', filters.circle)
  if (filters.group) params.set('group', filters.group)
  if (filters.tag) params.set('tag', filters.tag)
  if (filters.archived) params.set('archived', '1')
  if (filters.sort !== 'name') params.set('sort', filters.sort)
  if (filters.show !== 'all') params.set('show', filters.show)
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** "Now" to the minute: the overdue filter asks the same (cached) query for a minute. */
export function minuteNow(now = Date.now()): Date {
  return new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS)
}

/** The server's filter for `filters` at `now` (overdue: due by now; quiet: last contact over 3 months ago or never). */
export function toFilter(filters: ContactFilters, now: Date): Filter {
  const threeMonthsAgo = new Date(now)
  threeMonthsAgo.setMonth(threeMonthsAgo.getMonth() - 3)
  return {
    ...(filters.circle ? { circle: filters.circle } : {}),
    ...(filters.group ? { group: filters.group } : {}),
    ...(filters.tag.trim() ? { tag: filters.tag.trim() } : {}),
    ...(filters.search.trim() ? { search: filters.search.trim() } : {}),
    ...(filters.archived ? { archived: true } : {}),
    ...(filters.show === 'overdue' ? { dueBefore: now.toISOString() } : {}),
    ...(filters.show === 'quiet' ? { notContactedSince: threeMonthsAgo.toISOString() } : {}),
  }
}

/** Next due soonest first; last contact longest ago first; names A to Z. */
export function toOrder(sort: Sort): Order {
  const field = sort === 'due' ? 'NEXT_DUE_AT' : sort === 'last' ? 'LAST_CONTACT_DATE' : 'NAME'
  return { field, direction: 'ASC' }
}

/** Where the list was: the pages asked for and the scroll position, for the list of `key`. */
export interface SavedListPosition {
  key: string
  afters: (string | null)[]
  scrollY: number
}

const STATE_KEY = 'contactsList'

/** The position saved in this history entry for the list of `key`, if any. */
export function readListPosition(key: string): SavedListPosition | null {
  const saved = (window.history.state as Record<string, unknown> | null)?.[STATE_KEY] as SavedListPosition | undefined
  return saved && saved.key === key && Array.isArray(saved.afters) && typeof saved.scrollY === 'number' ? saved : null
}

/** Keeps `position` in this history entry (the URL stays). */
export function saveListPosition(position: SavedListPosition): void {
  const state = (window.history.state as Record<string, unknown> | null) ?? {}
  window.history.replaceState({ ...state, [STATE_KEY]: position }, '')
}

// The contact page's way back to the list as it was. Browser Back keeps the search, sort, pages
// and scroll; the page's "← Contacts" does the same when the entry before it is the list, else it
// links to the list's last URL (its search and sort, from the top).
const LIST_URL_KEY = 'contacts:list-url'
const FROM_LIST_KEY = 'openedFromContactsList'
let opening: string | null = null

/** Keeps the list's URL (`/contacts?q=…`) for this tab, for the contact page's way back. */
export function rememberListUrl(url: string): void {
  try {
    sessionStorage.setItem(LIST_URL_KEY, url)
  } catch {
    // No storage (private mode, blocked): the way back is the plain list.
  }
}

/** The list's last URL in this tab, or `/contacts`. */
export function listUrl(): string {
  try {
    const url = sessionStorage.getItem(LIST_URL_KEY)
    if (url && /^\/contacts(\?|$)/.test(url)) return url
  } catch {
    // As above.
  }
  return '/contacts'
}

/** The list is about to go to the contact at `path` (a row's link followed, a contact added) in a new history entry. */
export function openingFromList(path: string): void {
  opening = path
}

/** On the contact page: marks its history entry when the list just opened it (the entry before it is the list). */
export function markOpenedFromList(): void {
  if (opening === null) return
  const path = opening
  opening = null
  if (path !== window.location.pathname) return
  const state = (window.history.state as Record<string, unknown> | null) ?? {}
  window.history.replaceState({ ...state, [FROM_LIST_KEY]: true }, '')
}

/** Whether the entry before this one is the list (this contact was opened from it). */
export function previousEntryIsList(): boolean {
  return (window.history.state as Record<string, unknown> | null)?.[FROM_LIST_KEY] === true
}
