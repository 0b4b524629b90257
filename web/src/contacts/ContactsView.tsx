/**
 * The contacts, a page at a time as the user scrolls: filtered (circle, group, tag, name,
 * overdue, not contacted in 3 months), sorted (name, next due, last contact), with the total
 * at once. The filters live in the URL and the scroll position in `history.state`, so going
 * back from a contact shows the same list where it was. Adding a contact, and the groups
 * and tags panels, open in place.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useQuery } from 'urql'
import { ContactsQuery } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { CIRCLES, circleLabel, formatCount, formatDate, type Circle } from '../format.ts'
import { useEscapeKey } from '../keyboard.ts'
import { contactPath, Link, navigate, useLocation } from '../router.tsx'
import { ContactForm } from './ContactForm.tsx'
import { GroupsPanel } from './GroupsPanel.tsx'
import {
  DEFAULT_FILTERS,
  filtersFromSearch,
  minuteNow,
  readListPosition,
  saveListPosition,
  searchOf,
  SHOWS,
  SORTS,
  toFilter,
  toOrder,
  type ContactFilters,
  type Filter,
  type Order,
  type Show,
  type Sort,
} from './list-state.ts'
import { TagsPanel } from './TagsPanel.tsx'
import './contacts.css'

export const PAGE_SIZE = 50

/** Text filters wait for a pause in typing before asking the server. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

interface PageProps {
  filter: Filter
  orderBy: Order
  after: string | null
  now: Date
  onLoaded: (after: string | null) => void
  onOpen: () => void
}

/** One page of the list: its rows, as its query answered (the document cache has it once answered). */
function ContactRows({ filter, orderBy, after, now, onLoaded, onOpen }: PageProps) {
  const [{ data }] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter, orderBy } })
  const loaded = Boolean(data)
  useEffect(() => {
    if (loaded) onLoaded(after)
  }, [loaded, after, onLoaded])
  return data?.contacts.edges.map(({ node: contact }) => {
    const overdue = new Date(contact.nextDueAt) <= now
    return (
      <li key={contact.id} className="contact-row" data-testid="contact-row">
        <Link to={contactPath(contact.id)} onClick={onOpen}>
          {contact.name}
        </Link>
        <span className="circle">{circleLabel(contact.dunbarCircle)}</span>
        <span className={overdue ? 'due overdue' : 'due'} data-testid="next-due">
          Due {formatDate(contact.nextDueAt)}
          {overdue && <span className="overdue-mark"> · overdue</span>}
        </span>
        <span className="muted">{contact.lastContactDate ? `Last talked ${formatDate(contact.lastContactDate)}` : 'Never contacted'}</span>
        {contact.tags.length > 0 && <span className="tags">{contact.tags.join(', ')}</span>}
      </li>
    )
  })
}

/**
 * The list for one filter and order (a new one mounts a new list, so an answer to the old one
 * is never shown): a {@link ContactRows} per page asked for, and the last page's query here for
 * the loading state, the error, the total and what comes next. Coming back (same `listKey` in
 * this history entry), it asks for the same pages and scrolls back once their rows are in.
 */
function ContactList({ listKey, filter, orderBy, now, onUnauthorized }: { listKey: string; filter: Filter; orderBy: Order; now: Date; onUnauthorized: () => void }) {
  const [saved] = useState(() => readListPosition(listKey))
  // The `after` cursor of every page asked for so far.
  const [afters, setAfters] = useState<(string | null)[]>(saved?.afters ?? [null])
  const after = afters.at(-1) ?? null
  const [last, reexecute] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter, orderBy } })
  useUnauthorized(last.error, onUnauthorized)
  const connection = last.data?.contacts
  // Before the first answer, or after a failed one, there is more to ask for.
  const hasNextPage = connection?.pageInfo.hasNextPage ?? true
  const error = !last.fetching && last.error ? apiErrorOf(last.error).message : null

  // Where the list is, kept in this history entry: when a row is opened, and when scrolling stops.
  const aftersRef = useRef(afters)
  aftersRef.current = afters
  const restoreTo = useRef(saved?.scrollY ?? null)
  const savePosition = useCallback(() => {
    if (restoreTo.current === null) saveListPosition({ key: listKey, afters: aftersRef.current, scrollY: window.scrollY })
  }, [listKey])
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const onScroll = () => {
      clearTimeout(timer)
      timer = setTimeout(savePosition, 200)
    }
    window.addEventListener('scroll', onScroll, { passive: true })
    return () => {
      clearTimeout(timer)
      window.removeEventListener('scroll', onScroll)
    }
  }, [savePosition])

  // Back from a contact: scroll to where the list was once every page asked for has its rows.
  const loaded = useRef(new Set<string | null>())
  const onLoaded = useCallback((page: string | null) => {
    loaded.current.add(page)
    const target = restoreTo.current
    if (target === null || !aftersRef.current.every((each) => loaded.current.has(each))) return
    restoreTo.current = null
    requestAnimationFrame(() => window.scrollTo(0, target))
  }, [])

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
  const total = connection?.totalCount

  return (
    <>
      <p className="total" role="status" data-testid="total">
        {total === undefined ? 'Counting…' : total === 0 ? 'No contacts match.' : `${formatCount(total)} ${total === 1 ? 'contact' : 'contacts'}`}
      </p>
      <ul className="contacts" aria-label="Contacts" aria-busy={last.fetching}>
        {afters.map((pageAfter) => (
          <ContactRows key={pageAfter ?? ''} filter={filter} orderBy={orderBy} after={pageAfter} now={now} onLoaded={onLoaded} onOpen={savePosition} />
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
          <span>{total ? 'End of the list' : ''}</span>
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

type Panel = 'new' | 'groups' | 'tags' | null

/** Under an `ApiProvider`. */
export interface ContactsViewProps {
  groups: { id: string; name: string }[]
  onUnauthorized: () => void
}

export function ContactsView({ groups, onUnauthorized }: ContactsViewProps) {
  const { search } = useLocation()
  const [filters, setFilters] = useState<ContactFilters>(() => filtersFromSearch(search))
  // The query string this view last wrote: another one came from back / forward or a link.
  const written = useRef(search)
  useEffect(() => {
    if (search === written.current) return
    written.current = search
    setFilters(filtersFromSearch(search))
  }, [search])

  const settled = useDebounced(filters, 250)
  const listKey = searchOf({ ...settled, search: settled.search.trim(), tag: settled.tag.trim() })
  useEffect(() => {
    if (listKey === written.current) return
    written.current = listKey
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${listKey}`)
  }, [listKey])
  const { filter, orderBy, now } = useMemo(() => {
    const current = filtersFromSearch(listKey)
    const at = minuteNow()
    return { filter: toFilter(current, at), orderBy: toOrder(current.sort), now: at }
  }, [listKey])
  const set = (patch: Partial<ContactFilters>) => setFilters((current) => ({ ...current, ...patch }))

  const [panel, setPanel] = useState<Panel>(null)
  const openers = { new: useRef<HTMLButtonElement>(null), groups: useRef<HTMLButtonElement>(null), tags: useRef<HTMLButtonElement>(null) }
  const closePanel = useCallback(() => {
    setPanel((open) => {
      if (open) requestAnimationFrame(() => openers[open].current?.focus())
      return null
    })
    // The refs are stable.
  }, [])
  useEscapeKey(panel === 'groups' || panel === 'tags', closePanel)
  const toggle = (which: Exclude<Panel, null>) => (panel === which ? closePanel() : setPanel(which))

  return (
    <section aria-labelledby="contacts-title">
      <h1 id="contacts-title">Contacts</h1>
      <div className="actions contacts-actions">
        <button type="button" ref={openers.new} aria-expanded={panel === 'new'} onClick={() => toggle('new')}>
          Add contact
        </button>
        <button type="button" ref={openers.groups} aria-expanded={panel === 'groups'} onClick={() => toggle('groups')}>
          Manage groups
        </button>
        <button type="button" ref={openers.tags} aria-expanded={panel === 'tags'} onClick={() => toggle('tags')}>
          Manage tags
        </button>
      </div>
      {panel === 'new' && <ContactForm onCancel={closePanel} onSaved={(contact) => navigate(contactPath(contact.id))} />}
      {panel === 'groups' && <GroupsPanel />}
      {panel === 'tags' && <TagsPanel />}
      <form className="filters" role="search" aria-label="Filter contacts" onSubmit={(event) => event.preventDefault()}>
        <label>
          Search <input type="search" value={filters.search} onChange={(event) => set({ search: event.target.value })} placeholder="Name or e-mail" />
        </label>
        <label>
          Show{' '}
          <select value={filters.show} onChange={(event) => set({ show: event.target.value as Show })}>
            {Object.entries(SHOWS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort by{' '}
          <select value={filters.sort} onChange={(event) => set({ sort: event.target.value as Sort })}>
            {Object.entries(SORTS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
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
        {listKey !== '' && (
          <button type="button" onClick={() => setFilters(DEFAULT_FILTERS)}>
            Clear filters
          </button>
        )}
      </form>
      <ContactList key={listKey} listKey={listKey} filter={filter} orderBy={orderBy} now={now} onUnauthorized={onUnauthorized} />
    </section>
  )
}
