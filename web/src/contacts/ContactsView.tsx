/** The contacts, a page at a time as the user scrolls, filtered by circle, group, tag and name. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ApiError, type ApiClient } from '../api/client.ts'
import { ContactsQuery } from '../api/documents.ts'
import { CIRCLES, circleLabel, formatDate, type Circle } from '../format.ts'
import type { ResultOf } from '../graphql.ts'
import { contactPath, Link } from '../router.tsx'

export const PAGE_SIZE = 50

type ContactRow = ResultOf<typeof ContactsQuery>['contacts']['edges'][number]['node']

export interface ContactFilters {
  circle: Circle | ''
  group: string
  tag: string
  search: string
  /** Only archived contacts (the server's default: only active ones). */
  archived: boolean
}

interface ListState {
  rows: ContactRow[]
  endCursor: string | null
  hasNextPage: boolean
  loading: boolean
  error: string | null
}

const emptyList: ListState = { rows: [], endCursor: null, hasNextPage: true, loading: false, error: null }

function toFilter(filters: ContactFilters) {
  return {
    ...(filters.circle ? { circle: filters.circle } : {}),
    ...(filters.group ? { group: filters.group } : {}),
    ...(filters.tag.trim() ? { tag: filters.tag.trim() } : {}),
    ...(filters.search.trim() ? { search: filters.search.trim() } : {}),
    ...(filters.archived ? { archived: true } : {}),
  }
}

/** Text filters wait for a pause in typing before asking the server. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

function useContactPages(client: ApiClient, filters: ContactFilters, onUnauthorized: () => void) {
  const [list, setList] = useState<ListState>(emptyList)
  const current = useRef(list)
  current.current = list
  // Answers to an older filter are dropped: one generation per filter.
  const generation = useRef(0)
  const key = JSON.stringify(toFilter(filters))
  const filter = useMemo(() => JSON.parse(key) as ReturnType<typeof toFilter>, [key])

  const load = useCallback(
    async (after: string | null) => {
      const mine = generation.current
      setList((state) => ({ ...(after === null ? emptyList : state), loading: true, error: null }))
      try {
        const { contacts } = await client.request(ContactsQuery, { first: PAGE_SIZE, after, filter })
        if (mine !== generation.current) return
        setList((state) => ({
          rows: [...state.rows, ...contacts.edges.map((edge) => edge.node)],
          endCursor: contacts.pageInfo.endCursor ?? null,
          hasNextPage: contacts.pageInfo.hasNextPage,
          loading: false,
          error: null,
        }))
      } catch (error) {
        if (mine !== generation.current) return
        if (error instanceof ApiError && error.unauthorized) onUnauthorized()
        setList((state) => ({ ...state, loading: false, error: error instanceof Error ? error.message : 'Loading failed' }))
      }
    },
    [client, filter, onUnauthorized],
  )

  useEffect(() => {
    generation.current += 1
    void load(null)
  }, [load])

  const loadMore = useCallback(() => {
    const { loading, hasNextPage, endCursor } = current.current
    if (loading || !hasNextPage || !endCursor) return
    // Mark it loading now: the observer may fire again before React renders.
    current.current = { ...current.current, loading: true }
    void load(endCursor)
  }, [load])
  return { list, loadMore }
}

/** Calls `onVisible` whenever the element scrolls into view. */
function useWhenVisible(onVisible: () => void) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = ref.current
    if (!element || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && onVisible(), { rootMargin: '400px' })
    observer.observe(element)
    return () => observer.disconnect()
  }, [onVisible])
  return ref
}

export interface ContactsViewProps {
  client: ApiClient
  groups: { id: string; name: string }[]
  onUnauthorized: () => void
}

export function ContactsView({ client, groups, onUnauthorized }: ContactsViewProps) {
  const [filters, setFilters] = useState<ContactFilters>({ circle: '', group: '', tag: '', search: '', archived: false })
  const settled = useDebounced(filters, 250)
  const { list, loadMore } = useContactPages(client, settled, onUnauthorized)
  const sentinel = useWhenVisible(loadMore)
  const set = (patch: Partial<ContactFilters>) => setFilters((current) => ({ ...current, ...patch }))

  return (
    <section aria-labelledby="contacts-title">
      <h1 id="contacts-title">Contacts</h1>
      <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <label>
          Search <input type="search" value={filters.search} onChange={(event) => set({ search: event.target.value })} placeholder="Name or e-mail" />
        </label>
        <label>
          Circle{' '}
          <select value={filters.circle} onChange={(event) => set({ circle: event.target.value as Circle | '' })}>
            <option value="">All</option>
            {CIRCLES.map((circle) => (
              <option key={circle} value={circle}>
                {circleLabel(circle)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group{' '}
          <select value={filters.group} onChange={(event) => set({ group: event.target.value })}>
            <option value="">All</option>
            {groups.map((group) => (
              <option key={group.id} value={group.id}>
                {group.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag <input value={filters.tag} onChange={(event) => set({ tag: event.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={filters.archived} onChange={(event) => set({ archived: event.target.checked })} /> Archived only
        </label>
      </form>
      <ul className="contacts" aria-label="Contacts" aria-busy={list.loading}>
        {list.rows.map((contact) => (
          <li key={contact.id} className="contact-row" data-testid="contact-row">
            <Link to={contactPath(contact.id)}>{contact.name}</Link>
            <span className="circle">{circleLabel(contact.dunbarCircle)}</span>
            <span className="muted">{contact.lastContactDate ? `Last talked ${formatDate(contact.lastContactDate)}` : 'Never contacted'}</span>
            {contact.tags.length > 0 && <span className="tags">{contact.tags.join(', ')}</span>}
          </li>
        ))}
      </ul>
      {list.error && (
        <p className="error" role="alert">
          {list.error}
        </p>
      )}
      <div ref={sentinel} className="list-end">
        {list.loading ? (
          <span>Loading…</span>
        ) : list.hasNextPage ? (
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        ) : (
          <span>{list.rows.length === 0 ? 'No contacts match.' : `${list.rows.length} contacts`}</span>
        )}
      </div>
    </section>
  )
}
