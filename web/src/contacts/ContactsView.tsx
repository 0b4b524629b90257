/**
 * The contacts, a page at a time as the user scrolls: filtered (circle, group, tag, name,
 * overdue, not contacted in 3 months), sorted (name, next due, last contact), with the total
 * at once. The filters live in the URL and the scroll position in `history.state`, so going
 * back from a contact shows the same list where it was. Adding a contact, and the groups
 * and tags panels, open in place.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type RefCallback } from 'react'
import { useQuery } from 'urql'
import { ContactsQuery } from '../api/documents.ts'
import type { ResultOf } from '../graphql.ts'
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
  openingFromList,
  readListPosition,
  rememberListUrl,
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

type ContactNode = NonNullable<ResultOf<typeof ContactsQuery>['contacts']>['edges'][number]['node']

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
  /** How many rows the page should have: as many skeleton rows stand in until it answers. */
  expected: number
  now: Date
  userZone: string | null
  onLoaded: (after: string | null) => void
  onOpen: () => void
}

/**
 * One contact, in a row as tall as every other (and as a skeleton): the name and circle, the
 * next due date, the last talk and the tags, a line each, cut with an ellipsis when too long.
 */
function ContactRow({ contact, now, userZone, onOpen }: { contact: ContactNode; now: Date; userZone: string | null; onOpen: () => void }) {
  const overdue = new Date(contact.nextDueAt) <= now
  return (
    <li className="contact-row" data-testid="contact-row">
      <span className="line">
        <Link
          className="name"
          to={contactPath(contact.id)}
          onClick={(event) => {
            onOpen()
            // Only a plain click opens it in this tab, in the entry after the list's.
            if (event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey) openingFromList(contactPath(contact.id))
          }}
        >
          {contact.name}
        </Link>
        <span className="circle">{circleLabel(contact.dunbarCircle)}</span>
      </span>
      <span className={overdue ? 'line due overdue' : 'line due'} data-testid="next-due">
        Due {formatDate(contact.nextDueAt, userZone)}
        {overdue && <span className="overdue-mark"> · overdue</span>}
      </span>
      <span className="line muted">
        <span className="last">{contact.lastContactDate ? `Last talked ${formatDate(contact.lastContactDate, userZone)}` : 'Never contacted'}</span>
        {contact.tags.length > 0 && <span className="tags">{contact.tags.join(', ')}</span>}
      </span>
    </li>
  )
}

/**
 * `count` grey rows of a contact row's height, for a page on its way (or the next one, ahead of
 * the reader): when the rows come they take the skeletons' place and nothing below them moves.
 * Hidden from assistive technology (the list says it is busy); `sentinel` gets each of them.
 */
function SkeletonRows({ count, sentinel }: { count: number; sentinel?: RefCallback<HTMLLIElement> }) {
  return Array.from({ length: count }, (_, index) => (
    <li key={index} ref={sentinel} className="contact-row skeleton" aria-hidden="true">
      <span className="line">
        <span className="bar" />
      </span>
      <span className="line">
        <span className="bar" />
      </span>
      <span className="line">
        <span className="bar" />
      </span>
    </li>
  ))
}

/** One page of the list: its rows as its query answered (the document cache has it once answered), skeletons until then. */
function ContactRows({ filter, orderBy, after, expected, now, userZone, onLoaded, onOpen }: PageProps) {
  const [{ data, error }] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter, orderBy } })
  const loaded = Boolean(data)
  useEffect(() => {
    if (loaded) onLoaded(after)
  }, [loaded, after, onLoaded])
  // A failed page shows nothing: the list says why and offers to try again.
  if (!data) return error ? null : <SkeletonRows count={expected} />
  return (data.contacts?.edges ?? []).map(({ node }) => <ContactRow key={node.id} contact={node} now={now} userZone={userZone} onOpen={onOpen} />)
}

interface ListProps {
  listKey: string
  filter: Filter
  orderBy: Order
  now: Date
  userZone: string | null
  onUnauthorized: () => void
  /** Opens the new contact form (from the empty list's "Add your first contact"). */
  onAdd: () => void
}

/**
 * The list for one filter and order (a new one mounts a new list, so an answer to the old one
 * is never shown): a {@link ContactRows} per page asked for, and the last page's query here for
 * the loading state, the error, the total and what comes next. Coming back (same `listKey` in
 * this history entry), it asks for the same pages and scrolls back once their rows are in.
 *
 * Nothing moves as pages arrive: each page stands as skeleton rows until it answers; while there
 * are more, the next page's skeletons already follow the last rows (reaching them asks for it);
 * and the end of the list is a new element after each page, not the old one pushed down.
 */
function ContactList({ listKey, filter, orderBy, now, userZone, onUnauthorized, onAdd }: ListProps) {
  const [saved] = useState(() => readListPosition(listKey))
  // The `after` cursor of every page asked for so far.
  const [afters, setAfters] = useState<(string | null)[]>(saved?.afters ?? [null])
  const after = afters.at(-1) ?? null
  const [last, reexecute] = useQuery({ query: ContactsQuery, variables: { first: PAGE_SIZE, after, filter, orderBy } })
  useUnauthorized(last.error, onUnauthorized)
  // urql keeps the previous page's answer while it asks for the next: that one is not the last page's.
  const connection = last.operation?.variables.after === after ? last.data?.contacts : undefined
  // Before the first answer, or after a failed one, there is more to ask for.
  const hasNextPage = connection?.pageInfo.hasNextPage ?? true
  const error = !last.fetching && last.error ? apiErrorOf(last.error).message : null
  // The total as the latest answer gave it: it stays on screen (and unannounced) while the next page loads.
  const [total, setTotal] = useState<number | null>(null)
  if (connection && connection.totalCount !== total) setTotal(connection.totalCount)
  const loadedPages = connection ? afters.length : afters.length - 1
  /** Rows expected on page `index`: a full page until the total is known. */
  const expectedOn = (index: number) => (total === null ? PAGE_SIZE : Math.max(0, Math.min(PAGE_SIZE, total - index * PAGE_SIZE)))

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

  // The page asked for with the "Load more" button: its first row takes focus when it comes (the
  // button is replaced then), so that a keyboard user reads on from there.
  const focusPage = useRef<string | null>(null)
  const list = useRef<HTMLUListElement>(null)
  // Back from a contact: scroll to where the list was once every page asked for has its rows.
  const loaded = useRef(new Set<string | null>())
  const onLoaded = useCallback((page: string | null) => {
    loaded.current.add(page)
    if (page !== null && focusPage.current === page) {
      focusPage.current = null
      const first = aftersRef.current.indexOf(page) * PAGE_SIZE
      list.current?.querySelectorAll<HTMLElement>('[data-testid=contact-row] a')[first]?.focus()
    }
    const target = restoreTo.current
    if (target === null || !aftersRef.current.every((each) => loaded.current.has(each))) return
    restoreTo.current = null
    requestAnimationFrame(() => window.scrollTo(0, target))
  }, [])

  /** Asks for the next page (or again for a failed one); answers the cursor asked for. */
  const loadMore = () => {
    if (last.fetching) return null
    if (last.error) {
      reexecute({ requestPolicy: 'network-only' })
      return after
    }
    const endCursor = connection?.pageInfo.endCursor
    if (!hasNextPage || !endCursor) return null
    // The observer may fire again before React renders: a page is asked for once.
    setAfters((pages) => (pages.includes(endCursor) ? pages : [...pages, endCursor]))
    return endCursor
  }
  const latest = useRef(loadMore)
  latest.current = loadMore
  const sentinel = useWhenVisible(useCallback(() => latest.current(), []))

  // No filter or search set (the sort is none): an empty answer means no contacts at all.
  const filtered = Object.keys(filter).length > 0
  return (
    <>
      <p className="total" role="status" data-testid="total">
        {total === null ? 'Counting…' : total === 0 ? (filtered ? 'No contacts match.' : 'No contacts yet.') : `${formatCount(total)} ${total === 1 ? 'contact' : 'contacts'}`}
      </p>
      {total === 0 && !filtered && (
        <p className="empty-start" data-testid="no-contacts">
          <button type="button" onClick={onAdd}>
            Add your first contact
          </button>{' '}
          or <Link to="/import">import contacts</Link>
        </p>
      )}
      <ul className="contacts" ref={list} aria-label="Contacts" aria-busy={last.fetching}>
        {afters.map((pageAfter, index) => (
          <ContactRows
            key={pageAfter ?? ''}
            filter={filter}
            orderBy={orderBy}
            after={pageAfter}
            expected={expectedOn(index)}
            now={now}
            userZone={userZone}
            onLoaded={onLoaded}
            onOpen={savePosition}
          />
        ))}
        {connection && hasNextPage && <SkeletonRows key={afters.length} count={Math.max(1, expectedOn(afters.length))} sentinel={sentinel} />}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div key={loadedPages} className="list-end">
        {loadedPages > 0 && (hasNextPage || error) ? (
          <button
            type="button"
            aria-disabled={last.fetching}
            onClick={() => {
              focusPage.current = loadMore() ?? focusPage.current
            }}
          >
            {last.fetching ? 'Loading…' : 'Load more'}
          </button>
        ) : last.fetching ? (
          <span>Loading…</span>
        ) : (
          <span>{total ? 'End of the list' : ''}</span>
        )}
      </div>
    </>
  )
}

/**
 * A ref for elements that call `onVisible` whenever one of them comes within 400 px of the
 * screen (and at once if one is): all the next page's skeletons, so that a scroll that jumps
 * past the first of them still asks for it.
 */
function useWhenVisible(onVisible: () => void): RefCallback<HTMLElement> {
  const observer = useRef<IntersectionObserver | null>(null)
  useEffect(() => () => observer.current?.disconnect(), [])
  return useCallback(
    (element: HTMLElement | null) => {
      if (!element || typeof IntersectionObserver === 'undefined') return
      observer.current ??= new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && onVisible(), { rootMargin: '400px' })
      const watching = observer.current
      watching.observe(element)
      return () => watching.unobserve(element)
    },
    [onVisible],
  )
}

type Panel = 'new' | 'groups' | 'tags' | null

/** Under an `ApiProvider`. */
export interface ContactsViewProps {
  groups: { id: string; name: string }[]
  /** The user's IANA zone: dates read as on every other page (the browser's when null). */
  userZone: string | null
  onUnauthorized: () => void
}

export function ContactsView({ groups, userZone, onUnauthorized }: ContactsViewProps) {
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
  useEffect(() => rememberListUrl(`/contacts${listKey}`), [listKey])
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
      {panel === 'new' && (
        <ContactForm
          onCancel={closePanel}
          onSaved={(contact) => {
            openingFromList(contactPath(contact.id))
            navigate(contactPath(contact.id))
          }}
        />
      )}
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
      <ContactList key={listKey} listKey={listKey} filter={filter} orderBy={orderBy} now={now} userZone={userZone} onUnauthorized={onUnauthorized} onAdd={() => setPanel('new')} />
    </section>
  )
}
