import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, deferred, renderWithClient } from '../../test/fake-client.tsx'
import { ApiError } from '../api/errors.ts'
import { matchRoute, contactPath } from '../router.tsx'
import { ContactPage } from './ContactPage.tsx'
import { ContactsView, PAGE_SIZE } from './ContactsView.tsx'

const row = (n: number) => ({ id: `Q29udGFjdDo${n}=`, name: `Person ${n}`, dunbarCircle: 'ACTIVE', tags: n % 2 ? ['work'] : [], lastContactDate: null, nextDueAt: '2026-12-01T00:00:00.000Z' })

/** The connection over 120 people, paged by a cursor that is the index. */
function contactsHandler(variables: Record<string, unknown>) {
  const start = variables.after ? Number(variables.after) : 0
  const end = Math.min(120, start + Number(variables.first))
  const nodes = Array.from({ length: end - start }, (_, i) => row(start + i + 1))
  return { contacts: { edges: nodes.map((node, i) => ({ cursor: String(start + i + 1), node })), pageInfo: { endCursor: String(end), hasNextPage: end < 120 }, totalCount: 120 } }
}

let observers: { callback: IntersectionObserverCallback; disconnected: boolean }[] = []
beforeEach(() => {
  window.history.replaceState(null, '', '/contacts')
  observers = []
  vi.stubGlobal(
    'IntersectionObserver',
    class {
      entry: { callback: IntersectionObserverCallback; disconnected: boolean }
      constructor(callback: IntersectionObserverCallback) {
        this.entry = { callback, disconnected: false }
        observers.push(this.entry)
      }
      observe() {}
      unobserve() {}
      disconnect() {
        this.entry.disconnected = true
      }
    },
  )
})
afterEach(() => vi.unstubAllGlobals())

const scrollToEnd = () => act(() => observers.filter((o) => !o.disconnected).forEach((o) => o.callback([{ isIntersecting: true } as IntersectionObserverEntry], {} as IntersectionObserver)))

describe('ContactsView', () => {
  it('loads the first page, then the next ones as the end scrolls into view', async () => {
    const client = createFakeClient({ Contacts: contactsHandler })
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(PAGE_SIZE))
    expect(client.requests[0]).toEqual({ operation: 'Contacts', variables: { first: PAGE_SIZE, after: null, filter: {}, orderBy: { field: 'NAME', direction: 'ASC' } } })
    // The total is there with the first page.
    expect(screen.getByTestId('total')).toHaveTextContent('120 contacts')
    scrollToEnd()
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(100))
    expect(client.requests[1]?.variables.after).toBe('50')
    scrollToEnd()
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(120))
    expect(screen.getByText('End of the list')).toBeInTheDocument()
    scrollToEnd()
    expect(client.requests).toHaveLength(3)
  })

  it('has a "Load more" button for keyboards', async () => {
    const client = createFakeClient({ Contacts: contactsHandler })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await user.click(await screen.findByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(100))
  })

  it('filters by circle, group, tag and search, starting from the first page', async () => {
    const client = createFakeClient({ Contacts: contactsHandler })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[{ id: 'R3JvdXA6Mw==', name: 'Climbing' }]} userZone={null} onUnauthorized={() => {}} />)
    await screen.findAllByTestId('contact-row')
    await user.selectOptions(screen.getByLabelText('Circle'), 'INNER')
    await user.selectOptions(screen.getByLabelText('Group'), 'Climbing')
    await user.type(screen.getByLabelText('Tag'), 'work')
    await user.type(screen.getByLabelText('Search'), 'ann')
    await user.click(screen.getByLabelText('Archived only'))
    await waitFor(() =>
      expect(client.requests.at(-1)?.variables).toEqual({
        first: PAGE_SIZE,
        after: null,
        filter: { circle: 'INNER', group: 'R3JvdXA6Mw==', tag: 'work', search: 'ann', archived: true },
        orderBy: { field: 'NAME', direction: 'ASC' },
      }),
    )
  })

  it('drops an answer that arrives after the filter changed', async () => {
    let release: () => void = () => {}
    const client = createFakeClient({
      Contacts: (variables) => {
        const filter = variables.filter as { search?: string }
        if (!filter.search) return new Promise((resolve) => (release = () => resolve(contactsHandler(variables))))
        return { contacts: { edges: [{ cursor: 'x', node: row(7) }], pageInfo: { endCursor: 'x', hasNextPage: false }, totalCount: 1 } }
      },
    })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await user.type(screen.getByLabelText('Search'), 'Person 7')
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(1))
    await act(async () => release())
    expect(screen.getAllByTestId('contact-row')).toHaveLength(1)
  })

  it('skeleton rows stand for the first page, then for the next one ahead of the reader, as many as it will have', async () => {
    const pages = new Map<string, ReturnType<typeof deferred<unknown>>>()
    const client = createFakeClient({
      Contacts: (variables) => {
        const page = deferred<unknown>()
        pages.set(String(variables.after), page)
        return page.promise
      },
    })
    const { container } = renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    const skeletons = () => container.querySelectorAll('.contacts > li.skeleton[aria-hidden=true]').length
    const answer = (after: string | null) => act(async () => pages.get(String(after))!.resolve(contactsHandler({ first: PAGE_SIZE, after })))
    // Asked for: a full page of skeletons, and the total's line is there already.
    await waitFor(() => expect(pages.has('null')).toBe(true))
    expect(skeletons()).toBe(PAGE_SIZE)
    expect(screen.getByTestId('total')).toHaveTextContent('Counting…')
    expect(screen.getByRole('list', { name: 'Contacts' })).toHaveAttribute('aria-busy', 'true')
    await answer(null)
    // The rows took their place; the next page's 50 follow them before it is asked for.
    expect(screen.getAllByTestId('contact-row')).toHaveLength(PAGE_SIZE)
    expect(skeletons()).toBe(PAGE_SIZE)
    expect(pages.has('50')).toBe(false)
    scrollToEnd()
    await waitFor(() => expect(pages.has('50')).toBe(true))
    // While it loads, the total stays (a status line that says "Counting…" again would be announced).
    expect(screen.getByTestId('total')).toHaveTextContent('120 contacts')
    expect(skeletons()).toBe(PAGE_SIZE)
    await answer('50')
    // 20 are left: 20 skeletons.
    expect(skeletons()).toBe(20)
    scrollToEnd()
    await waitFor(() => expect(pages.has('100')).toBe(true))
    await answer('100')
    expect(screen.getAllByTestId('contact-row')).toHaveLength(120)
    expect(skeletons()).toBe(0)
    expect(screen.getByRole('list', { name: 'Contacts' })).toHaveAttribute('aria-busy', 'false')
  })

  it('"Load more" keeps focus while the page loads, then gives it to the first new row', async () => {
    const second = deferred<unknown>()
    const client = createFakeClient({ Contacts: (variables) => (variables.after ? second.promise : contactsHandler(variables)) })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await user.click(await screen.findByRole('button', { name: 'Load more' }))
    const busy = await screen.findByRole('button', { name: 'Loading…' })
    expect(busy).toHaveFocus()
    expect(busy).toHaveAttribute('aria-disabled', 'true')
    await act(async () => second.resolve(contactsHandler({ first: PAGE_SIZE, after: '50' })))
    await waitFor(() => expect(screen.getByRole('link', { name: 'Person 51' })).toHaveFocus())
  })

  it("shows each row's dates in the user's zone, as the contact page does", async () => {
    // 02:00 UTC on 1 Dec is still 30 Nov in New York.
    const late = { ...row(1), nextDueAt: '2026-12-01T02:00:00.000Z', lastContactDate: '2025-06-01T03:00:00.000Z' }
    const client = createFakeClient({ Contacts: () => ({ contacts: { edges: [{ cursor: '1', node: late }], pageInfo: { endCursor: '1', hasNextPage: false }, totalCount: 1 } }) })
    renderWithClient(client, <ContactsView groups={[]} userZone="America/New_York" onUnauthorized={() => {}} />)
    const contactRow = await screen.findByTestId('contact-row')
    expect(within(contactRow).getByTestId('next-due')).toHaveTextContent(/^Due 30 Nov 2026/)
    expect(contactRow).toHaveTextContent('Last talked 31 May 2025')
  })

  it('signs out on UNAUTHENTICATED', async () => {
    const onUnauthorized = vi.fn()
    const client = createFakeClient({ Contacts: () => Promise.reject(new ApiError('Sign in', 'UNAUTHENTICATED')) })
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={onUnauthorized} />)
    await waitFor(() => expect(onUnauthorized).toHaveBeenCalled())
  })
})

const contact = {
  id: 'Q29udGFjdDox/+=',
  name: 'Aisha Anderson',
  email: 'aisha@example.com',
  phone: null,
  linkedIn: null,
  instagram: null,
  xHandle: null,
  location: 'New York, USA',
  timezone: 'America/New_York',
  customNotes: 'Only walks.',
  lastContactDate: null,
  nextDueAt: '2026-12-01T12:00:00.000Z',
  frequencyPreference: 'MONTHLY',
  dunbarCircle: 'CLOSE',
  archived: false,
  tags: ['work'],
  groups: [{ id: 'g1', name: 'Climbing' }],
  birthday: null,
  anniversary: null,
  cadence: { days: 30, frequency: 'MONTHLY', source: 'CONTACT', rule: 'Every 30 days (monthly), its own', group: null },
}

/** No interactions logged. */
const noHistory = () => ({ node: { __typename: 'Contact', id: contact.id, interactions: { edges: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 } } })

describe('ContactPage', () => {
  it('shows the contact and logs an interaction', async () => {
    const client = createFakeClient({
      Contact: () => ({ node: { __typename: 'Contact', ...contact } }),
      ContactInteractions: noHistory,
      LogInteraction: () => ({ logInteraction: { ...contact, lastContactDate: '2026-11-25T09:00:00.000Z' } }),
    })
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone="Europe/Berlin" onUnauthorized={() => {}} />)
    expect(await screen.findByRole('heading', { name: 'Aisha Anderson' })).toBeInTheDocument()
    expect(client.requests[0]).toEqual({ operation: 'Contact', variables: { id: 'Q29udGFjdDox/+=' } })
    expect(screen.getByText('aisha@example.com')).toBeInTheDocument()
    expect(screen.getByText('Never')).toBeInTheDocument()
    const form = screen.getByRole('form', { name: 'Log interaction' })
    await user.selectOptions(within(form).getByLabelText('Kind'), 'MEETING')
    await user.type(within(form).getByLabelText('Note'), 'Coffee')
    await user.click(within(form).getByRole('button', { name: 'Log interaction' }))
    expect(await screen.findByText('Interaction logged.')).toBeInTheDocument()
    const log = client.requests.find((request) => request.operation === 'LogInteraction')
    // Today: sent as now.
    expect(log?.variables).toEqual({ contactId: contact.id, input: { kind: 'MEETING', note: 'Coffee', occurredAt: expect.any(String) } })
    expect(Math.abs(Date.parse((log?.variables.input as { occurredAt: string }).occurredAt) - Date.now())).toBeLessThan(60_000)
    expect(screen.getByText('Last talked').nextElementSibling).toHaveTextContent(/^25 Nov 2026$/)
  })

  it('says when the log fails', async () => {
    const client = createFakeClient({
      Contact: () => ({ node: { __typename: 'Contact', ...contact } }),
      ContactInteractions: noHistory,
      LogInteraction: () => Promise.reject(new ApiError('Too many requests', 'RATE_LIMITED')),
    })
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    await user.click(await screen.findByRole('button', { name: 'Log interaction' }))
    expect(await screen.findByText('Could not log it: Too many requests')).toBeInTheDocument()
  })

  it("shows the last talk as a date with its year in the user's zone, as the list does", async () => {
    const client = createFakeClient({
      Contact: () => ({ node: { __typename: 'Contact', ...contact, lastContactDate: '2025-06-01T03:00:00.000Z' } }),
      ContactInteractions: noHistory,
    })
    renderWithClient(client, <ContactPage id={contact.id} userZone="America/New_York" onUnauthorized={() => {}} />)
    await screen.findByRole('heading', { level: 1, name: 'Aisha Anderson' })
    expect(screen.getByText('Last talked').nextElementSibling).toHaveTextContent(/^31 May 2025$/)
    expect(screen.getByText('Next due').nextElementSibling).toHaveTextContent(/^1 Dec 2026$/)
  })

  // A heading for the page change to focus and name the title after.
  it('says when there is no such contact, under a heading', async () => {
    const client = createFakeClient({ Contact: () => ({ node: null }) })
    renderWithClient(client, <ContactPage id="nope" userZone={null} onUnauthorized={() => {}} />)
    expect(await screen.findByRole('heading', { level: 1, name: 'Contact not found' })).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('No such contact')
    expect(screen.getByRole('link', { name: 'All contacts' })).toHaveAttribute('href', '/contacts')
  })

  it('says when the contact could not be loaded, under a heading', async () => {
    const client = createFakeClient({ Contact: () => Promise.reject(new ApiError('Too many requests', 'RATE_LIMITED')) })
    renderWithClient(client, <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    expect(await screen.findByRole('heading', { level: 1, name: 'Contact could not be loaded' })).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('Too many requests')
  })
})

describe('routes', () => {
  it('encodes ids with / + = in the path and decodes them back', () => {
    const id = 'Q29udGFjdDox/+='
    expect(contactPath(id)).toBe('/contacts/Q29udGFjdDox%2F%2B%3D')
    expect(matchRoute(contactPath(id))).toEqual({ page: 'contact', id })
    expect(matchRoute('/')).toEqual({ page: 'suggestions' })
    expect(matchRoute('/contacts')).toEqual({ page: 'contacts' })
    expect(matchRoute('/elsewhere/x')).toEqual({ page: 'notFound' })
    expect(matchRoute('/contacts/%E0%A4%A')).toEqual({ page: 'notFound' })
  })
})
