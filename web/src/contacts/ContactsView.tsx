/** The contacts, a page at a time as the user scrolls, filtered by circle, group, tag and name. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useQuery } from 'urql'
import { ContactsQuery } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { CIRCLES, circleLabel, formatDate, type Circle } from '../format.ts'
import type { VariablesOf } from '../graphql.ts'
import { contactPath, Link } from '../router.tsx'

export const PAGE_SIZE = 50

type Filter = NonNullable<VariablesOf<typeof ContactsQuery>['filter']>

export interface ContactFilters {
  circle: Circle | ''
  group: string
  tag: string
  search: string
  /** Only archived contacts (the server's default: only active ones). */
  archived: boolean
}

function toFilter(filters: ContactFilters): Filter {
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

/** One page of the list: its rows, as its query answered (the document cache has it once answered). */
function ContactRows({ filter, after }: { filter: Filter; after: string | null }) {
  const [{ data }] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter } })
  return data?.contacts.edges.map(({ node: contact }) => (
    <li key={contact.id} className="contact-row" data-testid="contact-row">
      <Link to={contactPath(contact.id)}>{contact.name}</Link>
      <span className="circle">{circleLabel(contact.dunbarCircle)}</span>
      <span className="muted">{contact.lastContactDate ? `Last talked ${formatDate(contact.lastContactDate)}` : 'Never contacted'}</span>
      {contact.tags.length > 0 && <span className="tags">{contact.tags.join(', ')}</span>}
    </li>
  ))
}

/**
 * The list for one filter (a new filter mounts a new list, so an answer to the old one is
 * never shown): a {@link ContactRows} per page asked for, and the last page's query here
 * for the loading state, the error and what comes next.
 */
function ContactList({ filter, onUnauthorized }: { filter: Filter; onUnauthorized: () => void }) {
  // The `after` cursor of every page asked for so far.
  const [afters, setAfters] = useState<(string | null)[]>([null])
  const after = afters.at(-1) ?? null
  const [last, reexecute] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter } })
  useUnauthorized(last.error, onUnauthorized)
  const connection = last.data?.contacts
  // Before the first answer, or after a failed one, there is more to ask for.
  const hasNextPage = connection?.pageInfo.hasNextPage ?? true
  const error = !last.fetching && last.error ? apiErrorOf(last.error).message : null

  const loadMore = () => {
    if (last.fetching) return
    if (last.error) return reexecute({ requestPolicy: 'network-only' })
    const endCursor = connection?.pageInfo.endCursor
    if (!hasNextPage || !endCursor) return
    // The observer may fire again before React renders: a page is asked for once.
    setAfters((list) => (list.includes(endCursor) ? list : [...list, endCursor]))
  }
  const latest = useRef(loadMore)
  latest.current = loadMore
  const sentinel = useWhenVisible(useCallback(() => latest.current(), []))
  // Every page before the last had a next page: it was full.
  const count = (afters.length - 1) * PAGE_SIZE + (connection?.edges.length ?? 0)

  return (
    <>
      <ul className="contacts" aria-label="Contacts" aria-busy={last.fetching}>
        {afters.map((pageAfter) => (
          <ContactRows key={pageAfter ?? ''} filter={filter} after={pageAfter} />
        ))}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div ref={sentinel} className="list-end">
        {last.fetching ? (
          <span>Loading…</span>
        ) : hasNextPage ? (
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        ) : (
          <span>{count === 0 ? 'No contacts match.' : `${count} contacts`}</span>
        )}
      </div>
    </>
  )
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

/** Under an `ApiProvider`. */
export interface ContactsViewProps {
  groups: { id: string; name: string }[]
  onUnauthorized: () => void
}

export function ContactsView({ groups, onUnauthorized }: ContactsViewProps) {
  const [filters, setFilters] = useState<ContactFilters>({ circle: '', group: '', tag: '', search: '', archived: false })
  const settled = useDebounced(filters, 250)
  const key = JSON.stringify(toFilter(settled))
  const filter = useMemo(() => JSON.parse(key) as Filter, [key])
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
      <ContactList key={key} filter={filter} onUnauthorized={onUnauthorized} />
    </section>
  )
}
