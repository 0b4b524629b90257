import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, renderWithClient, type FakeClient } from '../../test/fake-client.tsx'
import { ApiError } from '../api/errors.ts'
import { matchRoute } from '../router.tsx'
import { POLL_INTERVAL_MS, syncIsOver, type Account } from './account-state.ts'
import { AccountsPage } from './AccountsPage.tsx'

const ID = 'QWNjb3VudDox'
const BOOKS = ['https://dav.example.com/ana/family/', 'https://dav.example.com/ana/work/', 'https://dav.example.com/ana/old/']

function account(overrides: Partial<Account> = {}): Account {
  return {
    id: ID,
    kind: 'CARDDAV',
    url: 'https://dav.example.com',
    status: 'OK',
    lastSyncedAt: null,
    lastError: null,
    counts: { contacts: 0, events: 0 },
    collections: [
      { url: BOOKS[0]!, displayName: 'Family', kind: 'ADDRESS_BOOK', enabled: false },
      { url: BOOKS[1]!, displayName: 'Work', kind: 'ADDRESS_BOOK', enabled: false },
      { url: BOOKS[2]!, displayName: null, kind: 'ADDRESS_BOOK', enabled: false },
    ],
    ...overrides,
  }
}

/** A BAD_USER_INPUT as the server sends it: the message prefixed with the field, which `extensions.field` names. */
const badInput = (field: string, message: string) => Object.assign(new ApiError(`${field}: ${message}`, 'BAD_USER_INPUT'), { field })

function setup(handlers: Record<string, (variables: Record<string, unknown>) => unknown>) {
  const onUnauthorized = vi.fn()
  const client = createFakeClient(handlers)
  const user = userEvent.setup()
  renderWithClient(client, <AccountsPage onUnauthorized={onUnauthorized} userZone="Europe/Berlin" />)
  return { client, user, onUnauthorized }
}

const requestsOf = (client: FakeClient, operation: string) => client.requests.filter((request) => request.operation === operation)
const progressOf = (client: FakeClient) => client.subscriptions.filter((subscription) => subscription.operation === 'SyncProgress')

async function fillConnectForm(user: ReturnType<typeof userEvent.setup>, { url = 'https://dav.example.com', username = 'ana', password = 'abcd-efgh-ijkl-mnop' } = {}) {
  await user.clear(screen.getByLabelText('Server URL'))
  await user.type(screen.getByLabelText('Server URL'), url)
  await user.clear(screen.getByLabelText('User name'))
  await user.type(screen.getByLabelText('User name'), username)
  await user.type(screen.getByLabelText('App password'), password)
}

afterEach(() => {
  vi.useRealTimers()
})

describe('matchRoute', () => {
  it('/accounts is the Accounts page', () => {
    expect(matchRoute('/accounts')).toEqual({ page: 'accounts' })
    expect(matchRoute('/accounts/')).toEqual({ page: 'accounts' })
  })
})

describe('AccountsPage: connecting', () => {
  it('sends the kind, URL, user name and app password, and shows a BAD_USER_INPUT on the URL next to the URL field', async () => {
    const connect = vi.fn((_variables: Record<string, unknown>): unknown => {
      throw badInput('input.url', 'no calendar was found for this account there')
    })
    const { client, user } = setup({ Accounts: () => ({ accounts: [] }), ConnectAccount: connect })
    expect(await screen.findByText('No accounts yet: connect one below.')).toBeInTheDocument()
    expect(screen.getByText(/iCloud .*Fastmail .*Nextcloud/)).toBeInTheDocument()
    await user.selectOptions(screen.getByLabelText('What to sync'), 'CALDAV')
    await fillConnectForm(user, { url: '  https://cal.example.com/dav ' })
    await user.click(screen.getByRole('button', { name: 'Connect' }))

    const url = screen.getByLabelText('Server URL')
    await waitFor(() => expect(url).toHaveAttribute('aria-invalid', 'true'))
    expect(requestsOf(client, 'ConnectAccount').map((request) => request.variables)).toEqual([
      { input: { kind: 'CALDAV', url: 'https://cal.example.com/dav', username: 'ana', password: 'abcd-efgh-ijkl-mnop' } },
    ])
    const message = document.getElementById(url.getAttribute('aria-describedby')!)
    expect(message).toHaveTextContent('no calendar was found for this account there')
    expect(message).not.toHaveTextContent('input.url')
    expect(url.closest('.form-row')).toContainElement(message)
    expect(url).toHaveFocus()
    expect(screen.getByLabelText('App password')).not.toHaveAttribute('aria-invalid')
    expect(screen.getByLabelText('App password')).toHaveAttribute('type', 'password')
  })

  it('puts refused credentials under the password, says what a quota means, and checks for empty fields before sending', async () => {
    let answer: ApiError = badInput('input.password', 'the server refused these credentials')
    const connect = vi.fn((): unknown => {
      throw answer
    })
    const { client, user } = setup({ Accounts: () => ({ accounts: [] }), ConnectAccount: connect })
    await user.click(await screen.findByRole('button', { name: 'Connect' }))
    expect(screen.getByLabelText('Server URL')).toHaveAccessibleDescription("Enter your server's address.")
    expect(screen.getByLabelText('Server URL')).toHaveFocus()
    expect(requestsOf(client, 'ConnectAccount')).toHaveLength(0)

    await fillConnectForm(user)
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    await waitFor(() => expect(screen.getByLabelText('App password')).toHaveAttribute('aria-invalid', 'true'))
    expect(screen.getByLabelText('App password')).toHaveAccessibleDescription(expect.stringContaining('the server refused these credentials'))
    expect(screen.getByLabelText('Server URL')).not.toHaveAttribute('aria-invalid')

    answer = new ApiError('Quota reached: at most 10 accounts per user', 'QUOTA_EXCEEDED')
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Quota reached: at most 10 accounts per user. Disconnect an account to connect another.')
  })
})

describe('AccountsPage: collections and sync', () => {
  it('after connecting, the picker of the discovered address books sends the chosen URLs, then the sync is followed live', async () => {
    let accounts: Account[] = []
    const { client, user } = setup({
      Accounts: () => ({ accounts }),
      ConnectAccount: () => {
        accounts = [account()]
        return { connectAccount: account() }
      },
      SetAccountCollections: ({ collectionUrls }) => {
        const urls = collectionUrls as string[]
        accounts = [account({ collections: account().collections.map((collection) => ({ ...collection, enabled: urls.includes(collection.url) })) })]
        return { setAccountCollections: accounts[0] }
      },
    })
    await screen.findByText('No accounts yet: connect one below.')
    await fillConnectForm(user)
    await user.click(screen.getByRole('button', { name: 'Connect' }))

    const picker = await screen.findByRole('form', { name: 'Choose the address books of https://dav.example.com to sync' })
    expect(screen.getByTestId('accounts-announcement')).toHaveTextContent('Connected https://dav.example.com: found 3 address books. Choose the address books to sync.')
    // The password is not kept once the server has it.
    expect(screen.getByLabelText('App password')).toHaveValue('')
    const boxes = within(picker).getAllByRole('checkbox')
    expect(boxes).toHaveLength(3)
    // Focus moves in an effect after the picker renders: waited for, not assumed.
    await waitFor(() => expect(boxes[0]).toHaveFocus())
    await user.click(within(picker).getByRole('checkbox', { name: /Work/ }))
    await user.click(within(picker).getByRole('checkbox', { name: /Family/ }))
    await user.click(within(picker).getByRole('checkbox', { name: /ana\/old/ }))
    await user.keyboard(' ') // the keyboard ticks too: the focused one is unticked again
    expect(within(picker).getByRole('checkbox', { name: /ana\/old/ })).not.toBeChecked()
    await user.click(within(picker).getByRole('button', { name: 'Save address books' }))

    await waitFor(() => expect(requestsOf(client, 'SetAccountCollections')).toHaveLength(1))
    // In the account's order, not the order they were ticked in.
    expect(requestsOf(client, 'SetAccountCollections')[0]!.variables).toEqual({ id: ID, collectionUrls: [BOOKS[0], BOOKS[1]] })
    await waitFor(() => expect(screen.queryByRole('form', { name: /Choose the address books/ })).toBeNull())
    expect(screen.getByTestId('accounts-announcement')).toHaveTextContent('Saved: 2 address books of https://dav.example.com sync.')

    // The server syncs after a choice: the page follows it.
    await waitFor(() => expect(progressOf(client)).toHaveLength(1))
    const stream = progressOf(client)[0]!
    expect(stream.variables).toEqual({ accountId: ID })
    const row = screen.getByTestId('account')
    const syncing = accounts[0]!
    act(() => stream.send({ syncProgress: { phase: 'READING', collectionUrl: BOOKS[0], done: 200, total: 2000, account: { ...syncing, status: 'SYNCING' } } }))
    expect(await within(row).findByText('Reading Family: 200 of 2,000…')).toHaveAttribute('role', 'status')
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Syncing…')
    expect(within(row).getByRole('button', { name: 'Syncing…' })).toHaveAttribute('aria-disabled', 'true')

    accounts = [{ ...syncing, lastSyncedAt: '2026-11-30T13:00:00.000Z', counts: { contacts: 1965, events: 0 } }]
    act(() => stream.send({ syncProgress: { phase: 'FINISHED', collectionUrl: null, done: 3, total: null, account: accounts[0] } }))
    await waitFor(() => expect(stream.stopped).toBe(true))
    expect(await within(row).findByText(/Last synced 30 Nov 2026, 14:00 · 1,965 contacts · 2 address books of 3 syncing/)).toBeInTheDocument()
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Connected')
    expect(screen.getByTestId('accounts-announcement')).toHaveTextContent('https://dav.example.com: sync finished.')
  })

  it('"Sync now" asks for a sync; when the live stream fails it polls accounts every few seconds until the sync is over', async () => {
    const synced = account({ lastSyncedAt: '2026-11-29T08:00:00.000Z', counts: { contacts: 12, events: 0 }, collections: account().collections.map((collection) => ({ ...collection, enabled: true })) })
    let current = synced
    const { client, user } = setup({ Accounts: () => ({ accounts: [current] }), SyncAccount: () => ({ syncAccount: current }) })
    const row = await screen.findByTestId('account')
    await user.click(within(row).getByRole('button', { name: 'Sync now' }))
    await waitFor(() => expect(progressOf(client)).toHaveLength(1))
    expect(requestsOf(client, 'SyncAccount')[0]!.variables).toEqual({ id: ID })
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Sync requested…')

    // Fake intervals from here (the poll's), not before: waitFor polls with a real one.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    act(() => progressOf(client)[0]!.fail(new ApiError('The connection closed (1006).', 'CLOSED')))
    expect(await within(row).findByText(/live progress lost: checking every few seconds/)).toBeInTheDocument()
    const asked = requestsOf(client, 'Accounts').length
    current = { ...synced, status: 'SYNCING' }
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS))
    await waitFor(() => expect(within(row).getByTestId('account-status')).toHaveTextContent('Syncing…'))
    expect(requestsOf(client, 'Accounts').length).toBeGreaterThan(asked)

    current = { ...synced, lastSyncedAt: '2026-11-30T13:00:00.000Z', counts: { contacts: 13, events: 0 } }
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS))
    await waitFor(() => expect(within(row).getByTestId('account-status')).toHaveTextContent('Connected'))
    expect(within(row).getByText(/13 contacts/)).toBeInTheDocument()
    const after = requestsOf(client, 'Accounts').length
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS * 3))
    // Polling stopped with the sync (at most the one refresh that ends it).
    expect(requestsOf(client, 'Accounts').length).toBeLessThanOrEqual(after + 1)
    expect(within(row).getByRole('button', { name: 'Sync now' })).toHaveAttribute('aria-disabled', 'false')

    vi.useRealTimers()
    // Another sync: what the previous one saw (its failed stream, its end) does not end this one.
    await user.click(within(row).getByRole('button', { name: 'Sync now' }))
    await waitFor(() => expect(progressOf(client)).toHaveLength(2))
    act(() => progressOf(client)[1]!.send({ syncProgress: { phase: 'CURRENT', collectionUrl: null, done: 0, total: null, account: current } }))
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Sync requested…')
    expect(within(row).queryByText(/live progress lost/)).toBeNull()
    act(() => progressOf(client)[1]!.send({ syncProgress: { phase: 'STARTED', collectionUrl: null, done: 0, total: null, account: { ...current, status: 'SYNCING' } } }))
    expect(await within(row).findByText('Sync started…')).toBeInTheDocument()
    expect(progressOf(client)[1]!.stopped).toBe(false)
  })

  it('the server ends the stream right after FINISHED: the sync is over, with no "progress lost" and no polling', async () => {
    const synced = account({ lastSyncedAt: '2026-11-29T08:00:00.000Z', counts: { contacts: 12, events: 0 }, collections: account().collections.map((collection) => ({ ...collection, enabled: true })) })
    let current = synced
    const { client, user } = setup({ Accounts: () => ({ accounts: [current] }), SyncAccount: () => ({ syncAccount: current }) })
    const row = await screen.findByTestId('account')
    await user.click(within(row).getByRole('button', { name: 'Sync now' }))
    await waitFor(() => expect(progressOf(client)).toHaveLength(1))
    const stream = progressOf(client)[0]!
    const asked = requestsOf(client, 'Accounts').length
    const finished = { ...synced, lastSyncedAt: '2026-11-30T13:00:00.000Z', counts: { contacts: 13, events: 0 } }
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    // A short run, all in one turn as it can come from the socket: STARTED, FINISHED, then the stream's end
    // (the page shows none of it before the end; `accounts` still answers the account as before the run).
    act(() => {
      stream.send({ syncProgress: { phase: 'STARTED', collectionUrl: null, done: 0, total: null, account: { ...synced, status: 'SYNCING' } } })
      stream.send({ syncProgress: { phase: 'FINISHED', collectionUrl: null, done: 2, total: null, account: finished } })
      stream.end()
    })
    current = finished
    await waitFor(() => expect(within(row).getByTestId('account-status')).toHaveTextContent('Connected'))
    expect(screen.getByTestId('accounts-announcement')).toHaveTextContent('https://dav.example.com: sync finished.')
    expect(within(row).queryByText(/live progress lost/)).toBeNull()
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS * 3))
    // One refresh for the end of the sync, no polling.
    expect(requestsOf(client, 'Accounts').length).toBeLessThanOrEqual(asked + 1)
    expect(within(row).getByRole('button', { name: 'Sync now' })).toHaveAttribute('aria-disabled', 'false')
  })

  it('a NOT_FOUND from "Sync now" says the account is gone', async () => {
    const enabled = account({ collections: account().collections.map((collection) => ({ ...collection, enabled: true })) })
    const { user } = setup({
      Accounts: () => ({ accounts: [enabled] }),
      SyncAccount: () => {
        throw new ApiError('Not found: account', 'NOT_FOUND')
      },
    })
    await user.click(await screen.findByRole('button', { name: 'Sync now' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not sync: this account is no longer connected. Reload the page.')
  })
})

describe('AccountsPage: status', () => {
  it('NEEDS_REAUTH shows its label, the last error and a Reconnect call to action that fills the form with the account', async () => {
    const { user } = setup({
      Accounts: () => ({
        accounts: [account({ kind: 'CALDAV', url: 'https://caldav.fastmail.com', status: 'NEEDS_REAUTH', lastError: 'The server answered 401 Unauthorized.', lastSyncedAt: '2026-11-28T09:30:00.000Z' })],
      }),
    })
    const row = await screen.findByTestId('account')
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Needs re-authentication')
    expect(within(row).getByText('Calendars (CalDAV)')).toBeInTheDocument()
    expect(within(row).getByText('The server answered 401 Unauthorized.')).toBeInTheDocument()
    expect(within(row).getByText(/Last synced 28 Nov 2026, 10:30/)).toBeInTheDocument()
    expect(within(row).getByText(/refused the saved credentials/)).toBeInTheDocument()

    await user.click(within(row).getByRole('button', { name: 'Reconnect' }))
    expect(await screen.findByRole('heading', { name: 'Reconnect https://caldav.fastmail.com' })).toBeInTheDocument()
    expect(screen.getByLabelText('What to sync')).toHaveValue('CALDAV')
    expect(screen.getByLabelText('Server URL')).toHaveValue('https://caldav.fastmail.com')
    expect(screen.getByLabelText('App password')).toHaveValue('')
    expect(screen.getByLabelText('User name')).toHaveFocus()
  })

  it('an account without a reauth problem shows no Reconnect', async () => {
    setup({ Accounts: () => ({ accounts: [account({ status: 'ERROR', lastError: 'The server answered 503.' })] }) })
    const row = await screen.findByTestId('account')
    expect(within(row).getByTestId('account-status')).toHaveTextContent('Sync failed')
    expect(within(row).getByText('The server answered 503.')).toBeInTheDocument()
    expect(within(row).queryByRole('button', { name: 'Reconnect' })).toBeNull()
  })
})

describe('AccountsPage: disconnecting', () => {
  it('asks for confirmation (Keep it and Escape keep the account), then calls disconnectAccount and the account leaves the list', async () => {
    let accounts = [account({ status: 'OK' })]
    const disconnect = vi.fn(() => {
      accounts = []
      return { disconnectAccount: true }
    })
    const { user } = setup({ Accounts: () => ({ accounts }), DisconnectAccount: disconnect })
    const row = await screen.findByTestId('account')

    await user.click(within(row).getByRole('button', { name: 'Disconnect…' }))
    const confirm = within(row).getByRole('group', { name: /^Disconnect https:\/\/dav\.example\.com\? Its saved password is deleted\. Its contacts stay here/ })
    expect(within(confirm).getByRole('button', { name: 'Disconnect' })).toHaveFocus()
    await user.click(within(confirm).getByRole('button', { name: 'Keep it' }))
    expect(within(row).queryByRole('group')).toBeNull()
    await waitFor(() => expect(within(row).getByRole('button', { name: 'Disconnect…' })).toHaveFocus())

    await user.keyboard('{Enter}')
    expect(within(row).getByRole('group')).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(within(row).queryByRole('group')).toBeNull()
    expect(disconnect).not.toHaveBeenCalled()

    await user.click(within(row).getByRole('button', { name: 'Disconnect…' }))
    await user.click(within(row).getByRole('button', { name: 'Disconnect' }))
    await waitFor(() => expect(disconnect).toHaveBeenCalledWith({ id: ID }))
    expect(await screen.findByText('No accounts yet: connect one below.')).toBeInTheDocument()
    expect(screen.getByTestId('accounts-announcement')).toHaveTextContent('Disconnected https://dav.example.com.')
  })
})

describe('syncIsOver', () => {
  const at = (status: Account['status'], lastSyncedAt: string | null = null) => ({ status, lastSyncedAt })
  it('a requested sync is over on FINISHED, after it was seen syncing, or once lastSyncedAt moved; not while it waits in the queue', () => {
    const requested = { requested: { lastSyncedAt: '2026-11-29T08:00:00.000Z' }, sawSyncing: false }
    expect(syncIsOver(requested, at('OK', '2026-11-29T08:00:00.000Z'), 'CURRENT')).toBe(false)
    expect(syncIsOver(requested, at('ERROR', '2026-11-29T08:00:00.000Z'), null)).toBe(false)
    expect(syncIsOver(requested, at('OK', '2026-11-30T08:00:00.000Z'), 'CURRENT')).toBe(true)
    expect(syncIsOver(requested, at('SYNCING'), 'READING')).toBe(false)
    expect(syncIsOver(requested, at('ERROR'), 'FINISHED')).toBe(true)
    expect(syncIsOver({ ...requested, sawSyncing: true }, at('NEEDS_REAUTH'), null)).toBe(true)
    // Followed because it was syncing when the page opened: over as soon as it is not.
    expect(syncIsOver({ sawSyncing: true }, at('OK'), 'CURRENT')).toBe(true)
  })
})
