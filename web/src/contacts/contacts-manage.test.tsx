/**
 * Managing contacts (issue 13, items 2, 3, 5): the contact form's state and requests (only what
 * changed, a cleared field as null, server messages next to their field), archive, the cadence
 * rule and dates, the history and the dated log, the groups and tags panels, and the list's
 * sort, filters, total and position kept in the URL and history.
 */
import { readFileSync } from 'node:fs'
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, deferred, renderWithClient } from '../../test/fake-client.tsx'
import { ApiError } from '../api/errors.ts'
import { fieldOf } from '../forms/field-errors.tsx'
import { ContactForm } from './ContactForm.tsx'
import { ContactPage } from './ContactPage.tsx'
import { ContactsView, PAGE_SIZE } from './ContactsView.tsx'
import { changedGroups, contactFormReducer, createInput, EMPTY_VALUES, initialFormState, localNoon, updateInput, valuesOf, type ContactValues } from './contact-form-state.ts'
import { describeYearly } from './important-dates.ts'
import { filtersFromSearch, searchOf, toFilter } from './list-state.ts'

/** A BAD_USER_INPUT about `field`, as the server answers it. */
const badInput = (message: string, field: string) => Object.assign(new ApiError(message, 'BAD_USER_INPUT'), { field })

const contact = {
  id: 'Q29udGFjdDox',
  name: 'Aisha Anderson',
  email: 'aisha@example.com',
  phone: null,
  linkedIn: null,
  instagram: null,
  xHandle: null,
  location: 'New York, USA',
  timezone: 'America/New_York',
  customNotes: null,
  lastContactDate: null,
  nextDueAt: '2026-12-01T12:00:00.000Z',
  frequencyPreference: null,
  dunbarCircle: 'CLOSE',
  archived: false,
  tags: ['work'],
  groups: [{ id: 'g1', name: 'Family' }],
  birthday: '1990-03-12',
  anniversary: '--06-20',
  cadence: { days: 7, frequency: 'WEEKLY', source: 'GROUP', rule: "Every 7 days (weekly), from the group Family's default", group: { id: 'g1', name: 'Family' } },
} as const

const groups = [
  { id: 'g1', name: 'Family', defaultFrequency: 'WEEKLY', memberCount: 3 },
  { id: 'g2', name: 'Climbing', defaultFrequency: null, memberCount: 1 },
  { id: 'g3', name: 'Work', defaultFrequency: null, memberCount: 0 },
]
// `__typename`s as the server sends them: urql's document cache invalidates by them.
const groupsAnswer = (list = groups) => ({ me: { __typename: 'User', id: 'u1', groups: list.map((group) => ({ __typename: 'Group', ...group })) } })

const interaction = (n: number) => ({ id: `i${n}`, kind: n % 2 ? 'CALL' : 'MEETING', note: `Note ${n}`, occurredAt: new Date(Date.UTC(2026, 10, 30 - n, 9)).toISOString() })
/** 25 interactions, newest first, 20 a page. */
function historyHandler(variables: Record<string, unknown>) {
  const start = variables.after ? Number(variables.after) : 0
  const end = Math.min(25, start + Number(variables.first))
  const edges = Array.from({ length: end - start }, (_, i) => ({ cursor: String(start + i + 1), node: interaction(start + i + 1) }))
  return { node: { __typename: 'Contact', id: contact.id, interactions: { edges, pageInfo: { endCursor: String(end), hasNextPage: end < 25 }, totalCount: 25 } } }
}

beforeEach(() => window.history.replaceState(null, '', '/contacts'))
afterEach(() => {
  sessionStorage.clear()
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('contact form state', () => {
  const initial: ContactValues = valuesOf(contact as never)

  it('a new contact sends only what was given, trimmed; the tag being typed counts', () => {
    let state = initialFormState()
    state = contactFormReducer(state, { type: 'set', field: 'name', value: '  Bo  ' })
    state = contactFormReducer(state, { type: 'set', field: 'birthday', value: '--03-12' })
    state = contactFormReducer(state, { type: 'set', field: 'frequencyPreference', value: 'MONTHLY' })
    state = contactFormReducer(state, { type: 'tagDraft', value: 'climbing, Work,' })
    state = contactFormReducer(state, { type: 'tagDraft', value: 'work' })
    state = contactFormReducer(state, { type: 'submit' })
    expect(state.saving).toBe(true)
    // "work" twice (case aside) is one tag.
    expect(createInput(state.values)).toEqual({ name: 'Bo', birthday: '--03-12', frequencyPreference: 'MONTHLY', tags: ['climbing', 'Work'] })
  })

  it('without a name it does not save, and says so next to the name', () => {
    const state = contactFormReducer(initialFormState(), { type: 'submit' })
    expect(state.saving).toBe(false)
    expect(state.errors.fields).toEqual({ name: 'Enter a name.' })
    expect(state.errorsShown).toBe(1)
    // Typing a name takes the message away.
    expect(contactFormReducer(state, { type: 'set', field: 'name', value: 'B' }).errors.fields).toEqual({})
  })

  it('an edit sends only what changed, a cleared field as null', () => {
    const values: ContactValues = { ...initial, email: '', location: 'Boston', dunbarCircle: '', frequencyPreference: 'WEEKLY', anniversary: '', tags: [] }
    expect(updateInput(initial, values)).toEqual({ email: null, location: 'Boston', dunbarCircle: null, frequencyPreference: 'WEEKLY', anniversary: null, tags: [] })
    expect(updateInput(initial, { ...initial })).toEqual({})
    expect(updateInput({ ...initial, lastContactDate: '2026-11-01' }, { ...initial, lastContactDate: '' })).toEqual({ lastContactDate: null })
    expect(updateInput(initial, { ...initial, lastContactDate: '2026-11-01' })).toEqual({ lastContactDate: localNoon('2026-11-01') })
  })

  it('groups are set only when they changed (in any order)', () => {
    expect(changedGroups({ ...EMPTY_VALUES, groupIds: ['a', 'b'] }, { ...EMPTY_VALUES, groupIds: ['b', 'a'] })).toBeNull()
    expect(changedGroups({ ...EMPTY_VALUES, groupIds: ['a'] }, { ...EMPTY_VALUES, groupIds: [] })).toEqual([])
  })

  it('a server field path names the form field', () => {
    expect(fieldOf('input.birthday', ['birthday'])).toBe('birthday')
    expect(fieldOf('input.tags.3', ['tags'])).toBe('tags')
    expect(fieldOf('name', ['name'])).toBe('name')
    expect(fieldOf('input.unknown', ['name'])).toBeNull()
    expect(fieldOf(undefined, ['name'])).toBeNull()
  })

  it('birthdays read as day, month and how far ahead', () => {
    const today = new Date(2026, 1, 19)
    expect(describeYearly('1990-03-12', today)).toBe('12 Mar (in 3 weeks)')
    expect(describeYearly('--02-19', today)).toBe('19 Feb (today)')
    expect(describeYearly('--02-18', today)).toBe('18 Feb (in 12 months)')
    expect(describeYearly('--02-20', today)).toBe('20 Feb (tomorrow)')
    expect(describeYearly('--02-29', new Date(2027, 1, 27))).toBe('29 Feb (tomorrow)')
    expect(describeYearly('sometime', today)).toBe('sometime')
  })
})

describe('ContactForm', () => {
  it('adds a contact with every kind of field, then sets its groups', async () => {
    const onSaved = vi.fn()
    const created = { ...contact, id: 'new', groups: [] }
    const client = createFakeClient({
      Groups: () => groupsAnswer(),
      CreateContact: () => ({ createContact: created }),
      SetContactGroups: () => ({ setContactGroups: { ...created, groups: [{ id: 'g2', name: 'Climbing' }] } }),
    })
    const user = userEvent.setup()
    renderWithClient(client, <ContactForm onSaved={onSaved} onCancel={() => {}} />)
    const form = screen.getByRole('form', { name: 'New contact' })
    expect(within(form).getByLabelText('Name')).toHaveFocus()
    await user.type(within(form).getByLabelText('Name'), 'Bo Berg')
    await user.type(within(form).getByLabelText('E-mail'), 'bo@example.com')
    await user.type(within(form).getByLabelText('Birthday'), '--03-12')
    await user.type(within(form).getByLabelText('Anniversary'), '2015-06-20')
    await user.selectOptions(within(form).getByLabelText('Circle'), 'INNER')
    await user.selectOptions(within(form).getByLabelText('How often'), 'BIWEEKLY')
    await user.type(within(form).getByLabelText('Tags'), 'climbing{Enter}old friends{Enter}oops{Enter}')
    await user.click(within(form).getByRole('button', { name: 'Remove tag oops' }))
    expect(within(within(form).getByRole('list', { name: 'Chosen tags' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['climbing×', 'old friends×'])
    await user.click(await within(form).findByLabelText('Climbing'))
    await user.click(within(form).getByRole('button', { name: 'Add contact' }))
    await waitFor(() => expect(onSaved).toHaveBeenCalled())
    const requests = client.requests.filter((request) => request.operation !== 'Groups')
    expect(requests).toEqual([
      {
        operation: 'CreateContact',
        variables: { input: { name: 'Bo Berg', email: 'bo@example.com', birthday: '--03-12', anniversary: '2015-06-20', dunbarCircle: 'INNER', frequencyPreference: 'BIWEEKLY', tags: ['climbing', 'old friends'] } },
      },
      { operation: 'SetContactGroups', variables: { contactId: 'new', groupIds: ['g2'] } },
    ])
    expect(onSaved.mock.calls[0]?.[0].groups).toEqual([{ id: 'g2', name: 'Climbing' }])
  })

  it('group checkboxes keep their size: the text-field rules (full width, 36 px tall) skip them, and text fields keep them', async () => {
    const style = document.head.appendChild(document.createElement('style'))
    // Vitest drops CSS imports: the view's own style sheets, as the browser has them.
    style.textContent = ['../styles.css', './contacts.css'].map((file) => readFileSync(new URL(file, import.meta.url), 'utf8')).join('\n')
    try {
      const client = createFakeClient({ Groups: () => groupsAnswer([...groups, { id: 'g4', name: 'Book club', defaultFrequency: null, memberCount: 0 }]) })
      renderWithClient(client, <ContactForm onSaved={() => {}} onCancel={() => {}} />)
      const box = await screen.findByLabelText('Book club')
      expect(getComputedStyle(box).width).not.toBe('100%')
      expect(getComputedStyle(box).minHeight).not.toBe('2.25rem')
      const name = screen.getByLabelText('Name')
      expect(getComputedStyle(name).width).toBe('100%')
      expect(getComputedStyle(name).minHeight).toBe('2.25rem')
    } finally {
      style.remove()
    }
  })

  it("shows the server's BAD_USER_INPUT next to its field, focused, and keeps what was typed", async () => {
    const client = createFakeClient({
      Groups: () => groupsAnswer(),
      UpdateContact: () => {
        throw badInput('input.birthday: must be YYYY-MM-DD or --MM-DD', 'input.birthday')
      },
    })
    const user = userEvent.setup()
    renderWithClient(client, <ContactForm contact={contact as never} onSaved={() => {}} onCancel={() => {}} />)
    const form = screen.getByRole('form', { name: 'Edit Aisha Anderson' })
    const birthday = within(form).getByLabelText('Birthday')
    await user.clear(birthday)
    await user.type(birthday, '12 March')
    await user.clear(within(form).getByLabelText('E-mail'))
    await user.click(within(form).getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(birthday).toHaveAttribute('aria-invalid', 'true'))
    expect(birthday).toHaveAccessibleDescription(expect.stringContaining('must be YYYY-MM-DD or --MM-DD'))
    expect(birthday).toHaveFocus()
    expect(within(form).getByLabelText('E-mail')).not.toHaveAttribute('aria-invalid')
    expect(birthday).toHaveValue('12 March')
    // Only what changed was sent; the cleared e-mail as null.
    expect(client.requests.find((request) => request.operation === 'UpdateContact')?.variables).toEqual({ id: contact.id, input: { birthday: '12 March', email: null } })
  })

  it('a failure without a field is the form’s message', async () => {
    const client = createFakeClient({ Groups: () => groupsAnswer(), CreateContact: () => Promise.reject(new ApiError('Too many contacts', 'QUOTA_EXCEEDED')) })
    const user = userEvent.setup()
    renderWithClient(client, <ContactForm onSaved={() => {}} onCancel={() => {}} />)
    await user.type(screen.getByLabelText('Name'), 'Bo')
    await user.click(screen.getByRole('button', { name: 'Add contact' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many contacts')
  })

  it('Escape cancels', async () => {
    const onCancel = vi.fn()
    renderWithClient(createFakeClient({ Groups: () => groupsAnswer() }), <ContactForm onSaved={() => {}} onCancel={onCancel} />)
    await userEvent.setup().keyboard('{Escape}')
    expect(onCancel).toHaveBeenCalled()
  })
})

describe('ContactPage', () => {
  const handlers = (overrides: Record<string, (variables: Record<string, unknown>) => unknown> = {}) => ({
    Contact: () => ({ node: { __typename: 'Contact', ...contact } }),
    ContactInteractions: historyHandler,
    Groups: () => groupsAnswer(),
    ...overrides,
  })

  it('shows the cadence rule and its source, the birthday and anniversary', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date(2026, 1, 19, 10))
    renderWithClient(createFakeClient(handlers()), <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    expect(await screen.findByTestId('cadence-rule')).toHaveTextContent(/^Every 7 days \(weekly\), from the group Family's default$/)
    expect(screen.getByText('12 Mar (in 3 weeks)')).toBeInTheDocument()
    expect(screen.getByText('20 Jun (in 4 months)')).toBeInTheDocument()
  })

  it('archives and unarchives, announcing it, focus staying on the button', async () => {
    let archived = false
    const client = createFakeClient(
      handlers({
        ArchiveContact: (variables) => {
          archived = variables.archived as boolean
          return { archiveContact: { ...contact, archived } }
        },
      }),
    )
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    await user.click(await screen.findByRole('button', { name: 'Archive Aisha Anderson' }))
    expect(await screen.findByText('Aisha Anderson is archived: no longer suggested.')).toBeInTheDocument()
    const unarchive = screen.getByRole('button', { name: 'Unarchive Aisha Anderson' })
    expect(unarchive).toHaveFocus()
    await user.click(unarchive)
    expect(await screen.findByText('Aisha Anderson is active again.')).toBeInTheDocument()
    expect(client.requests.filter((request) => request.operation === 'ArchiveContact').map((request) => request.variables.archived)).toEqual([true, false])
  })

  it('edits in place: Escape closes the form and gives focus back to Edit; saving announces it', async () => {
    const client = createFakeClient(handlers({ UpdateContact: (variables) => ({ updateContact: { ...contact, ...(variables.input as object) } }) }))
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    const edit = await screen.findByRole('button', { name: 'Edit Aisha Anderson' })
    await user.click(edit)
    expect(screen.getByRole('form', { name: 'Edit Aisha Anderson' })).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('form', { name: 'Edit Aisha Anderson' })).toBeNull()
    await waitFor(() => expect(edit).toHaveFocus())
    await user.click(edit)
    await user.clear(screen.getByLabelText('Location'))
    await user.type(screen.getByLabelText('Location'), 'Boston')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByText('Saved Aisha Anderson.')).toBeInTheDocument()
    expect(screen.getByText('Boston')).toBeInTheDocument()
    await waitFor(() => expect(edit).toHaveFocus())
  })

  it('lists the history newest first, 20 at a time, with kind, date and note', async () => {
    const client = createFakeClient(handlers())
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone="UTC" onUnauthorized={() => {}} />)
    await waitFor(() => expect(screen.getAllByTestId('interaction')).toHaveLength(20))
    expect(screen.getByRole('heading', { name: 'History (25)' })).toBeInTheDocument()
    expect(screen.getAllByTestId('interaction')[0]).toHaveTextContent('Call Sun 29 Nov, 09:00Note 1')
    await user.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(screen.getAllByTestId('interaction')).toHaveLength(25))
    expect(client.requests.filter((request) => request.operation === 'ContactInteractions').at(-1)?.variables).toEqual({ id: contact.id, first: 20, after: '20' })
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull()
  })

  it('logs "I called yesterday" with a note as yesterday noon', async () => {
    const client = createFakeClient(handlers({ LogInteraction: () => ({ logInteraction: contact }) }))
    const user = userEvent.setup()
    renderWithClient(client, <ContactPage id={contact.id} userZone={null} onUnauthorized={() => {}} />)
    const form = await screen.findByRole('form', { name: 'Log interaction' })
    const now = new Date()
    const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 12)
    expect(within(form).getByLabelText('Date')).toHaveValue(`${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`)
    await user.click(within(form).getByRole('button', { name: 'Yesterday' }))
    await user.type(within(form).getByLabelText('Note'), 'Talked about the move')
    await user.click(within(form).getByRole('button', { name: 'Log interaction' }))
    expect(await within(form).findByText('Interaction logged.')).toBeInTheDocument()
    expect(client.requests.find((request) => request.operation === 'LogInteraction')?.variables).toEqual({
      contactId: contact.id,
      input: { kind: 'CALL', note: 'Talked about the move', occurredAt: yesterday.toISOString() },
    })
  })
})

describe('groups and tags panels', () => {
  const openPanel = async (name: string, client = createFakeClient()) => {
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    const opener = screen.getByRole('button', { name })
    await user.click(opener)
    return { user, opener }
  }
  const listHandlers = { Contacts: () => ({ contacts: { edges: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 } }) }

  it('groups: the default cadence in words, set and cleared (null); create with the name error next to the field', async () => {
    let list = groups
    const client = createFakeClient({
      ...listHandlers,
      Groups: () => groupsAnswer(list),
      UpdateGroup: (variables) => {
        const input = variables.input as { defaultFrequency: string | null }
        list = list.map((group) => (group.id === variables.id ? { ...group, defaultFrequency: input.defaultFrequency } : group))
        return { updateGroup: list.find((group) => group.id === variables.id) }
      },
      CreateGroup: () => {
        throw badInput('a group named "Family" exists', 'name')
      },
    })
    const { user } = await openPanel('Manage groups', client)
    const panel = await screen.findByRole('region', { name: 'Groups' })
    await waitFor(() => expect(within(panel).getAllByTestId('group-row')).toHaveLength(3))
    expect(within(panel).getAllByTestId('group-cadence')[0]).toHaveTextContent(/^Weekly for members without a cadence of their own · 3 members$/)
    await user.selectOptions(within(panel).getByLabelText('Default cadence for Climbing'), 'MONTHLY')
    expect(await within(panel).findByText('Climbing: Monthly for members without a cadence of their own · 1 member.')).toBeInTheDocument()
    await user.selectOptions(within(panel).getByLabelText('Default cadence for Family'), '')
    await waitFor(() => expect(client.requests.filter((request) => request.operation === 'UpdateGroup').at(-1)?.variables).toEqual({ id: 'g1', input: { defaultFrequency: null } }))
    await user.type(within(panel).getByLabelText('New group'), 'Family')
    await user.click(within(panel).getByRole('button', { name: 'Create group' }))
    const name = within(panel).getByLabelText('New group')
    await waitFor(() => expect(name).toHaveAttribute('aria-invalid', 'true'))
    expect(name).toHaveAccessibleDescription('a group named "Family" exists')
    expect(client.requests.find((request) => request.operation === 'CreateGroup')?.variables).toEqual({ name: 'Family', defaultFrequency: null })
  })

  it('groups: delete asks first, then focus goes to the next row', async () => {
    let list = groups
    const client = createFakeClient({
      ...listHandlers,
      Groups: () => groupsAnswer(list),
      DeleteGroup: (variables) => {
        list = list.filter((group) => group.id !== variables.id)
        return { deleteGroup: true }
      },
    })
    const { user } = await openPanel('Manage groups', client)
    await user.click(await screen.findByRole('button', { name: 'Delete Family…' }))
    const confirm = screen.getByRole('button', { name: 'Delete Family' })
    expect(confirm).toHaveFocus()
    expect(screen.getByText('Delete Family? Its 3 members leave it.')).toBeInTheDocument()
    await user.click(confirm)
    expect(await screen.findByText('Deleted Family.')).toBeInTheDocument()
    await waitFor(() => expect(screen.getByRole('button', { name: 'Rename Climbing' })).toHaveFocus())
    expect(screen.getAllByTestId('group-row')).toHaveLength(2)
  })

  it('rename: Escape closes only the rename form and focus returns to its button; Escape again closes the panel', async () => {
    const client = createFakeClient({ ...listHandlers, Groups: () => groupsAnswer() })
    const { user, opener } = await openPanel('Manage groups', client)
    const rename = await screen.findByRole('button', { name: 'Rename Work' })
    await user.click(rename)
    expect(screen.getByLabelText('New name for Work')).toHaveFocus()
    await user.keyboard('{Escape}')
    await waitFor(() => expect(screen.getByRole('button', { name: 'Rename Work' })).toHaveFocus())
    expect(screen.getByRole('region', { name: 'Groups' })).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('region', { name: 'Groups' })).toBeNull()
    await waitFor(() => expect(opener).toHaveFocus())
  })

  it('tags: rename across contacts and delete, each announced', async () => {
    let tags = [
      { name: 'climbing', contactCount: 4 },
      { name: 'wrok', contactCount: 2 },
    ]
    const client = createFakeClient({
      ...listHandlers,
      Tags: () => ({ me: { __typename: 'User', id: 'u1', tags: tags.map((tag) => ({ __typename: 'Tag', ...tag })) } }),
      RenameTag: (variables) => {
        tags = tags.map((tag) => (tag.name === variables.from ? { ...tag, name: variables.to as string } : tag))
        return { renameTag: 2 }
      },
      DeleteTag: (variables) => {
        tags = tags.filter((tag) => tag.name !== variables.name)
        return { deleteTag: 4 }
      },
    })
    const { user } = await openPanel('Manage tags', client)
    await user.click(await screen.findByRole('button', { name: 'Rename wrok' }))
    await user.clear(screen.getByLabelText('New name for wrok'))
    await user.type(screen.getByLabelText('New name for wrok'), 'work{Enter}')
    expect(await screen.findByText('Renamed wrok to work on 2 contacts.')).toBeInTheDocument()
    await screen.findByRole('button', { name: 'Rename work' })
    await user.click(screen.getByRole('button', { name: 'Delete climbing…' }))
    await user.click(screen.getByRole('button', { name: 'Delete tag climbing' }))
    expect(await screen.findByText('Deleted climbing from 4 contacts.')).toBeInTheDocument()
    expect(client.requests.filter((request) => request.operation === 'RenameTag' || request.operation === 'DeleteTag').map((request) => request.variables)).toEqual([{ from: 'wrok', to: 'work' }, { name: 'climbing' }])
    await waitFor(() => expect(screen.getAllByTestId('tag-row')).toHaveLength(1))
  })

  it("tags: after a rename focus goes to the renamed tag's row, not to the row now at its old place", async () => {
    let tags = ['alpha', 'beta', 'gamma']
    const client = createFakeClient({
      ...listHandlers,
      Tags: () => ({ me: { __typename: 'User', id: 'u1', tags: tags.map((name) => ({ __typename: 'Tag', name, contactCount: 1 })) } }),
      RenameTag: (variables) => {
        tags = tags.map((tag) => (tag === variables.from ? (variables.to as string) : tag)).sort()
        return { renameTag: 1 }
      },
    })
    const { user } = await openPanel('Manage tags', client)
    await user.click(await screen.findByRole('button', { name: 'Rename alpha' }))
    await user.clear(screen.getByLabelText('New name for alpha'))
    await user.type(screen.getByLabelText('New name for alpha'), 'brand new{Enter}')
    await screen.findByText('Renamed alpha to brand new on 1 contact.')
    await waitFor(() => expect(screen.getByRole('button', { name: 'Rename brand new' })).toHaveFocus())
    expect(screen.getAllByTestId('tag-row').map((row) => row.querySelector('.chip')?.textContent)).toEqual(['beta', 'brand new', 'gamma'])
  })
})

describe('ContactsView: sort, filters, total, and the way back', () => {
  const row = (n: number, nextDueAt: string) => ({ id: `c${n}`, name: `Person ${n}`, dunbarCircle: 'ACTIVE', tags: [], lastContactDate: null, nextDueAt })
  function contactsHandler(variables: Record<string, unknown>) {
    const start = variables.after ? Number(variables.after) : 0
    const end = Math.min(1965, start + Number(variables.first))
    const edges = Array.from({ length: end - start }, (_, i) => ({ cursor: String(start + i + 1), node: row(start + i + 1, start + i < 3 ? '2020-01-01T00:00:00.000Z' : '2999-01-01T00:00:00.000Z') }))
    return { contacts: { edges, pageInfo: { endCursor: String(end), hasNextPage: end < 1965 }, totalCount: 1965 } }
  }

  it('sorts by next due and shows the overdue ones, in the URL; the total and each due date at once', async () => {
    const client = createFakeClient({ Contacts: contactsHandler })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    expect(await screen.findByText('1,965 contacts')).toBeInTheDocument()
    expect(screen.getAllByTestId('next-due')[0]).toHaveTextContent('Due 1 Jan 2020 · overdue')
    expect(screen.getAllByTestId('next-due')[3]).toHaveTextContent('Due 1 Jan 2999')
    expect(screen.getAllByTestId('next-due')[3]).not.toHaveTextContent('overdue')
    await user.selectOptions(screen.getByLabelText('Sort by'), 'due')
    await user.selectOptions(screen.getByLabelText('Show'), 'overdue')
    await waitFor(() => expect(window.location.search).toBe('?sort=due&show=overdue'))
    const last = client.requests.at(-1)!.variables as { orderBy: unknown; filter: { dueBefore: string } }
    expect(last.orderBy).toEqual({ field: 'NEXT_DUE_AT', direction: 'ASC' })
    expect(Math.abs(Date.parse(last.filter.dueBefore) - Date.now())).toBeLessThan(61_000)
    await user.selectOptions(screen.getByLabelText('Show'), 'quiet')
    await user.selectOptions(screen.getByLabelText('Sort by'), 'last')
    await waitFor(() => expect(client.requests.at(-1)?.variables.orderBy).toEqual({ field: 'LAST_CONTACT_DATE', direction: 'ASC' }))
    const quiet = (client.requests.at(-1)!.variables.filter as { notContactedSince: string }).notContactedSince
    const threeMonths = new Date()
    threeMonths.setMonth(threeMonths.getMonth() - 3)
    expect(Math.abs(Date.parse(quiet) - threeMonths.getTime())).toBeLessThan(61_000)
  })

  it('starts from the URL, and back from a contact asks for the same pages and scrolls back once their rows are in', async () => {
    const scrollTo = vi.fn()
    vi.stubGlobal('scrollTo', scrollTo)
    window.history.replaceState({ contactsList: { key: '?q=person&sort=due', afters: [null, '50'], scrollY: 2400 } }, '', '/contacts?q=person&sort=due')
    const second = deferred<unknown>()
    const client = createFakeClient({ Contacts: (variables) => (variables.after === '50' ? second.promise : contactsHandler(variables)) })
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    expect(screen.getByLabelText('Search')).toHaveValue('person')
    expect(screen.getByLabelText('Sort by')).toHaveValue('due')
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(PAGE_SIZE))
    expect(client.requests.map((request) => request.variables.after)).toEqual([null, '50'])
    expect(client.requests[0]?.variables).toMatchObject({ filter: { search: 'person' }, orderBy: { field: 'NEXT_DUE_AT' } })
    // Not before the second page is in.
    await act(() => new Promise((resolve) => requestAnimationFrame(resolve)))
    expect(scrollTo).not.toHaveBeenCalled()
    await act(async () => second.resolve(contactsHandler({ first: PAGE_SIZE, after: '50' })))
    await waitFor(() => expect(scrollTo).toHaveBeenCalledWith(0, 2400))
    expect(screen.getAllByTestId('contact-row')).toHaveLength(100)
  })

  it('opening a contact keeps the pages and the scroll position in this history entry', async () => {
    const client = createFakeClient({ Contacts: contactsHandler })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await user.type(screen.getByLabelText('Search'), 'per')
    await waitFor(() => expect(window.location.search).toBe('?q=per'))
    await user.click(await screen.findByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(screen.getAllByTestId('contact-row')).toHaveLength(100))
    vi.stubGlobal('scrollY', 1234)
    const replaceState = vi.spyOn(window.history, 'replaceState')
    fireEvent.click(screen.getByRole('link', { name: 'Person 70' }))
    expect(window.location.pathname).toBe('/contacts/c70')
    // Written into the entry of the list, before the contact's was pushed.
    expect(replaceState.mock.calls.at(-1)?.[0]).toEqual({ contactsList: { key: '?q=per', afters: [null, '50'], scrollY: 1234 } })
    replaceState.mockRestore()
  })

  it('"← Contacts" on a contact opened from the list goes back to it (search, sort, pages, scroll); on another, it links to the list\'s last URL', async () => {
    const contactHandlers = { Contact: () => ({ node: { __typename: 'Contact', ...contact } }), ContactInteractions: historyHandler, Groups: () => groupsAnswer() }
    window.history.replaceState(null, '', '/contacts?q=person&sort=due')
    const user = userEvent.setup()
    const list = renderWithClient(createFakeClient({ Contacts: contactsHandler }), <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    await user.click(await screen.findByRole('link', { name: 'Person 2' }))
    expect(window.location.pathname).toBe('/contacts/c2')
    list.unmount()
    const back = vi.spyOn(window.history, 'back').mockImplementation(() => {})
    try {
      const page = renderWithClient(createFakeClient(contactHandlers), <ContactPage id="c2" userZone={null} onUnauthorized={() => {}} />)
      const link = await screen.findByRole('link', { name: '← Contacts' })
      expect(link).toHaveAttribute('href', '/contacts?q=person&sort=due')
      await user.click(link)
      expect(back).toHaveBeenCalledTimes(1)
      expect(window.location.pathname).toBe('/contacts/c2')
      page.unmount()

      // A contact reached otherwise (a link from the suggestions, a new tab): the list's last URL.
      window.history.replaceState(null, '', '/contacts/c3')
      renderWithClient(createFakeClient(contactHandlers), <ContactPage id="c3" userZone={null} onUnauthorized={() => {}} />)
      await user.click(await screen.findByRole('link', { name: '← Contacts' }))
      expect(back).toHaveBeenCalledTimes(1)
      expect(`${window.location.pathname}${window.location.search}`).toBe('/contacts?q=person&sort=due')
    } finally {
      back.mockRestore()
    }
  })

  it('with no contacts at all it says so and offers to add or import; with a search set it says none match', async () => {
    const client = createFakeClient({ Contacts: () => ({ contacts: { edges: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 } }), Groups: () => groupsAnswer() })
    const user = userEvent.setup()
    renderWithClient(client, <ContactsView groups={[]} userZone={null} onUnauthorized={() => {}} />)
    expect(await screen.findByText('No contacts yet.')).toBeInTheDocument()
    expect(screen.queryByText('No contacts match.')).toBeNull()
    expect(screen.getByRole('link', { name: 'import contacts' })).toHaveAttribute('href', '/import')
    await user.click(screen.getByRole('button', { name: 'Add your first contact' }))
    expect(await screen.findByRole('form', { name: 'New contact' })).toBeInTheDocument()
    await user.keyboard('{Escape}')
    await user.type(screen.getByLabelText('Search'), 'zed')
    expect(await screen.findByText('No contacts match.')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Add your first contact' })).toBeNull()
  })

  it('the query string round-trips; unknown values fall back to the defaults', () => {
    const filters = filtersFromSearch('?q=ann&circle=INNER&group=g1&tag=work&archived=1&sort=last&show=quiet')
    expect(searchOf(filters)).toBe('?q=ann&circle=INNER&group=g1&tag=work&archived=1&sort=last&show=quiet')
    expect(filtersFromSearch('?sort=sideways&show=everything&circle=NOPE')).toMatchObject({ sort: 'name', show: 'all', circle: '' })
    expect(toFilter(filtersFromSearch('?show=overdue'), new Date('2026-11-30T12:00:00Z'))).toEqual({ dueBefore: '2026-11-30T12:00:00.000Z' })
  })
})
