/** The suggestions page's undo, snooze presets, Planned and Hidden lists, status line, skeleton, and tabs sharing one stream. */
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, deferred, renderWithClient, type FakeClient } from '../../test/fake-client.tsx'
import { createFakeBrowser } from '../../test/fake-tabs.ts'
import { acted, batch, complete, range, statusLists } from '../../test/fixtures.ts'
import { ApiProvider } from '../api/provider.tsx'
import { ApiError } from '../api/errors.ts'
import { formatDay } from '../format.ts'
import type { ActedSuggestion, SuggestionEvent } from './reducer.ts'
import { dayFromToday, dayNextMonth, startOfDay } from './SuggestionRow.tsx'
import { SKELETON_ROWS, SuggestionsView, UNDO_MS } from './SuggestionsView.tsx'

afterEach(() => vi.useRealTimers())

function setup(handlers: Parameters<typeof createFakeClient>[0] = {}) {
  const client = createFakeClient({ SuggestionsByStatus: statusLists(), ...handlers })
  renderWithClient(client, <SuggestionsView userZone="Europe/Berlin" onUnauthorized={() => {}} backoff={() => 10} />)
  const emit = (event: SuggestionEvent) => act(() => client.current.emit(event))
  return { client, emit, user: userEvent.setup() }
}

const rowNames = () => screen.queryAllByTestId('suggestion').map((row) => within(row).getByRole('link').textContent)
const operations = (client: FakeClient) => client.requests.map((request) => request.operation).filter((operation) => operation !== 'SuggestionsByStatus')

describe('SuggestionsView: what is happening', () => {
  it('a skeleton of real-row height until the first batch, hidden from screen readers; the status says connected and reading', () => {
    const { client, emit } = setup()
    expect(screen.getByText('Connecting…')).toBeInTheDocument()
    const bones = screen.getAllByTestId('skeleton')
    expect(bones).toHaveLength(SKELETON_ROWS)
    for (const bone of bones) {
      expect(bone).toHaveAttribute('aria-hidden', 'true')
      expect(bone).toHaveClass('suggestion')
    }
    act(() => client.current.open())
    expect(screen.getByTestId('progress')).toHaveTextContent('Connected — reading your contacts (0 read, 0 found)')
    expect(screen.getByText('Live')).toBeInTheDocument()
    expect(screen.getAllByTestId('skeleton')).toHaveLength(SKELETON_ROWS)
    emit(batch(range(1, 2), 'c2', 400))
    expect(screen.queryAllByTestId('skeleton')).toHaveLength(0)
    expect(screen.getByTestId('progress')).toHaveTextContent('Connected — reading your contacts (400 read, 2 found)')
    emit(complete(2))
    expect(screen.getByTestId('progress')).toHaveTextContent('Updated just now')
  })

  it('a refusal that waiting will not clear is shown as such, and not retried', async () => {
    vi.useFakeTimers()
    const { client } = setup()
    act(() => client.current.fail(new ApiError('at most 5 suggestion streams at once per user', 'RATE_LIMITED')))
    expect(screen.getByRole('alert')).toHaveTextContent('The server refused the suggestions: at most 5 suggestion streams at once per user Reload the page to try again.')
    expect(screen.queryAllByTestId('skeleton')).toHaveLength(0)
    // A minute: past any back-off (at most 15 s), here 10 ms.
    await act(() => vi.advanceTimersByTimeAsync(60_000))
    expect(client.subscriptions).toHaveLength(1)
  })
})

describe('SuggestionsView: each action says what it did, and can be undone', () => {
  it('dismiss: "hidden for 7 days" from the answer; Undo brings the row back in its place, focused', async () => {
    const { emit, user, client } = setup({
      DismissSuggestion: () => ({ dismissSuggestion: acted(2, 'DISMISSED', 7) }),
      UndoSuggestionAction: () => ({ undoSuggestionAction: acted(2, 'PENDING', null) }),
    })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 2' }))
    const toast = screen.getByTestId('toast')
    expect(toast).toHaveAttribute('role', 'status')
    await waitFor(() => expect(toast).toHaveTextContent('Dismissed Person 2 — hidden for 7 days'))
    expect(rowNames()).toEqual(['Person 1', 'Person 3'])
    await user.click(within(toast).getByRole('button', { name: 'Undo' }))
    await waitFor(() => expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3']))
    expect(operations(client)).toEqual(['DismissSuggestion', 'UndoSuggestionAction'])
    expect(client.requests.find((request) => request.operation === 'UndoSuggestionAction')?.variables).toEqual({ id: 'sg_2' })
    expect(screen.getByRole('button', { name: 'Accept Person 2' })).toHaveFocus()
    expect(toast).toBeEmptyDOMElement()
    expect(screen.getByTestId('announcer')).toHaveTextContent('Undone: Person 2 is back in the list')
  })

  it('accept: "Planned … for <slot>"; undo takes it out of Planned and back into the list', async () => {
    const { emit, user } = setup({
      AcceptSuggestion: () => ({ acceptSuggestion: acted(1, 'ACCEPTED', 1) }),
      UndoSuggestionAction: () => ({ undoSuggestionAction: acted(1, 'PENDING', null) }),
    })
    emit(batch(range(1, 2)))
    await user.click(screen.getByRole('button', { name: 'Accept Person 1' }))
    await waitFor(() => expect(screen.getByTestId('toast')).toHaveTextContent('Planned Person 1 for Thu 26 Nov, 18:00'))
    expect(within(screen.getByRole('region', { name: 'Planned' })).getByTestId('status')).toHaveTextContent('Planned')
    await user.click(within(screen.getByTestId('toast')).getByRole('button', { name: 'Undo' }))
    await waitFor(() => expect(rowNames()).toEqual(['Person 1', 'Person 2']))
    expect(screen.queryByRole('region', { name: 'Planned' })).toBeNull()
  })

  it('a failed undo leaves the row hidden and says why', async () => {
    const { emit, user } = setup({
      DismissSuggestion: () => ({ dismissSuggestion: acted(2, 'DISMISSED', 7) }),
      UndoSuggestionAction: () => {
        throw new ApiError('Nothing to undo', 'BAD_USER_INPUT')
      },
    })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 2' }))
    const undo = within(screen.getByTestId('toast')).getByRole('button', { name: 'Undo' })
    await waitFor(() => expect(undo).toBeEnabled())
    await user.click(undo)
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Could not undo for Person 2: Nothing to undo'))
    expect(rowNames()).toEqual(['Person 1', 'Person 3'])
  })

  it(`Undo is offered for ${UNDO_MS / 1000} s once the action is done (held while focused), not while it is saving`, async () => {
    vi.useFakeTimers()
    const answer = deferred<unknown>()
    const client = createFakeClient({ SuggestionsByStatus: statusLists(), DismissSuggestion: () => answer.promise })
    renderWithClient(client, <SuggestionsView userZone="Europe/Berlin" onUnauthorized={() => {}} />)
    act(() => client.current.emit(batch(range(1, 2))))
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss Person 1' }))
    const toast = screen.getByTestId('toast')
    expect(toast).toHaveTextContent('Dismissing Person 1…')
    expect(within(toast).getByRole('button', { name: 'Undo' })).toBeDisabled()
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS * 2))
    expect(toast).not.toBeEmptyDOMElement()
    await act(async () => answer.resolve({ dismissSuggestion: acted(1, 'DISMISSED', 30) }))
    await act(() => vi.advanceTimersByTimeAsync(10))
    expect(toast).toHaveTextContent('Dismissed Person 1 — hidden for 30 days')
    expect(within(toast).getByRole('button', { name: 'Undo' })).toBeEnabled()
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS - 100))
    expect(toast).not.toBeEmptyDOMElement()
    // Focus in the toast holds it, however long; leaving gives the full time again.
    act(() => within(toast).getByRole('button', { name: 'Undo' }).focus())
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS * 3))
    expect(toast).not.toBeEmptyDOMElement()
    act(() => within(toast).getByRole('button', { name: 'Undo' }).blur())
    await act(() => vi.advanceTimersByTimeAsync(UNDO_MS - 100))
    expect(toast).not.toBeEmptyDOMElement()
    await act(() => vi.advanceTimersByTimeAsync(200))
    expect(toast).toBeEmptyDOMElement()
  })
})

describe('SuggestionsView: Undo by keyboard', () => {
  it('Ctrl+Z, Cmd+Z or "z" undoes while the toast offers it, from anywhere but a text field; the toast says so', async () => {
    const { emit, user, client } = setup({
      DismissSuggestion: () => ({ dismissSuggestion: acted(2, 'DISMISSED', 7) }),
      UndoSuggestionAction: () => ({ undoSuggestionAction: acted(2, 'PENDING', null) }),
    })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 2' }))
    const toast = screen.getByTestId('toast')
    const undo = await within(toast).findByRole('button', { name: 'Undo' })
    await waitFor(() => expect(undo).toBeEnabled())
    expect(undo).toHaveTextContent('Undo (Ctrl+Z)')
    expect(undo).toHaveAttribute('aria-keyshortcuts', 'Control+Z Meta+Z Z')
    expect(screen.getByRole('button', { name: 'Accept Person 3' })).toHaveFocus()
    await user.keyboard('{Control>}z{/Control}')
    await waitFor(() => expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3']))
    expect(operations(client)).toEqual(['DismissSuggestion', 'UndoSuggestionAction'])
    expect(screen.getByRole('button', { name: 'Accept Person 2' })).toHaveFocus()
    // No toast: the keys do nothing.
    await user.keyboard('z{Meta>}z{/Meta}')
    expect(operations(client)).toEqual(['DismissSuggestion', 'UndoSuggestionAction'])

    await user.click(screen.getByRole('button', { name: 'Dismiss Person 2' }))
    await waitFor(() => expect(within(toast).getByRole('button', { name: 'Undo' })).toBeEnabled())
    // In a text field the keys are the field's own.
    await user.click(screen.getByRole('button', { name: 'Snooze Person 1' }))
    const date = screen.getByLabelText('Until')
    date.focus()
    fireEvent.keyDown(date, { key: 'z', ctrlKey: true })
    fireEvent.keyDown(date, { key: 'z' })
    expect(operations(client)).toEqual(['DismissSuggestion', 'UndoSuggestionAction', 'DismissSuggestion'])
    fireEvent.keyDown(document.body, { key: 'z', metaKey: true })
    await waitFor(() => expect(operations(client)).toEqual(['DismissSuggestion', 'UndoSuggestionAction', 'DismissSuggestion', 'UndoSuggestionAction']))
  })
})

describe('SuggestionsView: snooze', () => {
  it('presets: tomorrow, next week, next month; the toast says until when', async () => {
    const { emit, user, client } = setup({
      SnoozeSuggestion: (variables) => ({ snoozeSuggestion: { ...acted(1, 'SNOOZED', null), statusEndsAt: variables.until } }),
    })
    emit(batch(range(1, 2)))
    await user.click(screen.getByRole('button', { name: 'Snooze Person 1' }))
    const form = screen.getByRole('form', { name: 'Snooze Person 1' })
    const tomorrow = within(form).getByRole('button', { name: `Tomorrow (${formatDay(startOfDay(dayFromToday(1))!)})` })
    expect(tomorrow).toHaveFocus()
    expect(tomorrow).toHaveTextContent('Tomorrow')
    expect(within(form).getByRole('button', { name: `Next week (${formatDay(startOfDay(dayFromToday(7))!)})` })).toHaveTextContent('Next week')
    const nextMonth = within(form).getByRole('button', { name: `Next month (${formatDay(startOfDay(dayNextMonth())!)})` })
    expect(nextMonth).toHaveTextContent('Next month')
    await user.click(nextMonth)
    expect(rowNames()).toEqual(['Person 2'])
    const sent = client.requests.find((request) => request.operation === 'SnoozeSuggestion')!
    expect(sent.variables.until).toBe(startOfDay(dayNextMonth()))
    await waitFor(() => expect(screen.getByTestId('toast')).toHaveTextContent(`Snoozed Person 1 until ${formatDay(startOfDay(dayNextMonth())!, 'Europe/Berlin')}`))
    expect(screen.getByRole('button', { name: 'Accept Person 2' })).toHaveFocus()
  })

  it('next month from the 31st is the last day of the next month', () => {
    expect(dayNextMonth(new Date(2027, 0, 31))).toBe('2027-02-28')
    expect(dayNextMonth(new Date(2026, 11, 15))).toBe('2027-01-15')
  })

  it('Escape closes the form and gives focus back to the Snooze button', async () => {
    const { emit, user } = setup()
    emit(batch(range(1, 2)))
    await user.click(screen.getByRole('button', { name: 'Snooze Person 2' }))
    expect(screen.getByRole('form', { name: 'Snooze Person 2' })).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('form', { name: 'Snooze Person 2' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Snooze Person 2' })).toHaveFocus()
  })
})

describe('SuggestionsView: Planned and Hidden, from the API', () => {
  it('Planned comes from suggestionsByStatus(ACCEPTED), asked once the walk is complete: it survives a reload', async () => {
    const { emit, client } = setup({ SuggestionsByStatus: statusLists([acted(8, 'ACCEPTED', 1)]) })
    emit(batch(range(1, 2)))
    expect(client.requests).toEqual([])
    emit(complete(2))
    const planned = await screen.findByRole('region', { name: 'Planned' })
    expect(within(planned).getByTestId('planned')).toHaveTextContent('Person 8')
    expect(within(planned).getByTestId('status')).toHaveTextContent('Planned')
    expect(client.requests.map((request) => request.variables.statuses)).toEqual([['ACCEPTED'], ['DISMISSED', 'SNOOZED']])
  })

  it('Hidden lists dismissed and snoozed contacts with when they end; Restore brings one back into the list', async () => {
    let hidden = [acted(5, 'DISMISSED', 7, '2026-11-30T10:00:00.000Z'), acted(6, 'SNOOZED', 3, '2026-11-30T10:00:00.000Z')]
    const { emit, user, client } = setup({
      SuggestionsByStatus: (variables) => statusLists(hidden)(variables),
      RestoreSuggestion: (variables) => {
        const restored = hidden.find((node) => node.id === variables.id)!
        hidden = hidden.filter((node) => node !== restored)
        return { restoreSuggestion: acted(Number(restored.id.slice(3)), 'PENDING', null) }
      },
    })
    emit(batch(range(1, 4)))
    emit(complete(4))
    const toggle = await screen.findByRole('button', { name: 'Show hidden (2)' })
    expect(toggle).toHaveAttribute('aria-expanded', 'false')
    await user.click(toggle)
    expect(toggle).toHaveAttribute('aria-expanded', 'true')
    expect(toggle).toHaveAccessibleName('Hide hidden (2)')
    const entries = screen.getAllByTestId('hidden')
    expect(entries[0]).toHaveTextContent('Person 5 Dismissed — hidden until Mon 7 Dec')
    expect(entries[1]).toHaveTextContent('Person 6 Snoozed until Thu 3 Dec')
    await user.click(screen.getByRole('button', { name: 'Restore Person 5' }))
    await waitFor(() => expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3', 'Person 4', 'Person 5']))
    await waitFor(() => expect(screen.getAllByTestId('hidden')).toHaveLength(1))
    expect(client.requests.find((request) => request.operation === 'RestoreSuggestion')?.variables).toEqual({ id: 'sg_5' })
    expect(screen.getByRole('button', { name: 'Restore Person 6' })).toHaveFocus()
    await user.keyboard('{Escape}')
    expect(screen.queryByTestId('hidden')).toBeNull()
    expect(screen.getByRole('button', { name: 'Show hidden (1)' })).toHaveFocus()
  })

  it('a contact dismissed in this tab and restored from Hidden is back in the list', async () => {
    let hidden: ActedSuggestion[] = []
    const { emit, user } = setup({
      SuggestionsByStatus: (variables) => statusLists(hidden)(variables),
      DismissSuggestion: () => {
        hidden = [acted(2, 'DISMISSED', 7)]
        return { dismissSuggestion: hidden[0] }
      },
      RestoreSuggestion: () => {
        hidden = []
        return { restoreSuggestion: acted(2, 'PENDING', null) }
      },
    })
    emit(batch(range(1, 3)))
    emit(complete(3))
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 2' }))
    const toggle = await screen.findByRole('button', { name: 'Show hidden (1)' })
    await user.click(toggle)
    await user.click(screen.getByRole('button', { name: 'Restore Person 2' }))
    await waitFor(() => expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3']))
  })
})

describe('SuggestionsView: tabs share one stream', () => {
  it('a second tab follows: no subscription of its own, the same rows; when the leader tab closes it takes over and resumes', async () => {
    const browser = createFakeBrowser()
    const tab = (client: FakeClient) => (
      <ApiProvider client={client}>
        <SuggestionsView userZone="Europe/Berlin" onUnauthorized={() => {}} locks={browser.locks} openChannel={browser.openChannel} />
      </ApiProvider>
    )
    const [leaderClient, followerClient] = [createFakeClient({ SuggestionsByStatus: statusLists() }), createFakeClient({ SuggestionsByStatus: statusLists() })]
    const leader = render(tab(leaderClient))
    await waitFor(() => expect(leader.container.querySelector('[data-stream-role]')).toHaveAttribute('data-stream-role', 'leader'))
    act(() => leaderClient.current.emit(batch(range(1, 2), 'c2', 300)))
    const follower = render(tab(followerClient))
    const followerRows = () => [...follower.container.querySelectorAll('[data-testid=suggestion] a')].map((link) => link.textContent)
    await waitFor(() => expect(followerRows()).toEqual(['Person 1', 'Person 2']))
    expect(follower.container.querySelector('[data-stream-role]')).toHaveAttribute('data-stream-role', 'follower')
    expect(followerClient.subscriptions).toHaveLength(0)
    act(() => leaderClient.current.emit(batch(range(3, 3), 'c3', 600)))
    await waitFor(() => expect(followerRows()).toEqual(['Person 1', 'Person 2', 'Person 3']))
    expect(follower.container.querySelector('[data-testid=progress]')).toHaveTextContent('600 read')
    leader.unmount()
    await waitFor(() => expect(followerClient.subscriptions).toHaveLength(1))
    expect(followerClient.current.variables.input).toMatchObject({ resumeFrom: 'c3' })
    expect(follower.container.querySelector('[data-stream-role]')).toHaveAttribute('data-stream-role', 'leader')
    act(() => followerClient.current.emit(batch(range(4, 4), 'c4')))
    expect(followerRows()).toEqual(['Person 1', 'Person 2', 'Person 3', 'Person 4'])
  })
})
