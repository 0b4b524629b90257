import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Profiler } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, deferred, renderWithClient } from '../../test/fake-client.tsx'
import { batch, complete, range, statusLists, suggestion, throttled, updated } from '../../test/fixtures.ts'
import { ApiError } from '../api/errors.ts'
import type { SuggestionEvent } from './reducer.ts'
import { SuggestionsView } from './SuggestionsView.tsx'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

function setup(handlers: Parameters<typeof createFakeClient>[0] = {}) {
  const client = createFakeClient({ SuggestionsByStatus: statusLists(), ...handlers })
  const onUnauthorized = vi.fn()
  renderWithClient(client, <SuggestionsView userZone="Europe/Berlin" onUnauthorized={onUnauthorized} backoff={() => 10} />)
  const emit = (event: SuggestionEvent) => act(() => client.current.emit(event))
  return { client, onUnauthorized, emit, user: userEvent.setup() }
}

const rowNames = () => screen.queryAllByTestId('suggestion').map((row) => within(row).getByRole('link').textContent)

describe('SuggestionsView: the stream', () => {
  it('renders each batch as it arrives: rank, name, circle, reason, the slot in both zones', () => {
    const { emit } = setup()
    expect(screen.getByText('Connecting…')).toBeInTheDocument()
    emit(batch(range(1, 2), 'c2', 300))
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    const first = screen.getAllByTestId('suggestion')[0]!
    expect(within(first).getByLabelText('Rank 1')).toHaveTextContent('1')
    expect(within(first).getByText('Close')).toBeInTheDocument()
    expect(within(first).getByText('Monthly · last talked 1 days ago')).toBeInTheDocument()
    // 17:00Z is 18:00 in Berlin and 02:00 the next day in Tokyo.
    expect(first).toHaveTextContent('Thu 26 Nov, 18:00–18:30')
    expect(first).toHaveTextContent('Fri 27 Nov, 02:00 their time (Tokyo)')
    expect(within(first).getByRole('link', { name: 'Person 1' })).toHaveAttribute('href', `/contacts/${encodeURIComponent('Q29udGFjdDo1/+=')}`)
    expect(screen.getByTestId('progress')).toHaveTextContent('Connected — reading your contacts (300 read, 2 found)')
    expect(screen.getByText('Live')).toBeInTheDocument()
    emit(batch(range(3, 3), 'c3', 600))
    expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3'])
    expect(screen.getByTestId('progress')).toHaveTextContent('Connected — reading your contacts (600 read, 3 found)')
  })

  it('keeps the rows already on screen when a batch arrives (append-only: the same DOM nodes)', () => {
    const { emit } = setup()
    emit(batch(range(1, 2)))
    const before = screen.getAllByTestId('suggestion')
    emit(batch(range(3, 4)))
    const after = screen.getAllByTestId('suggestion')
    expect(after.slice(0, 2)).toEqual(before)
  })

  it('shows 25 rows of a large batch at once, adds the rest 25 per frame, then shows the summary', async () => {
    // Frames on demand: jsdom's 60 Hz timer is slow and uneven on a busy machine.
    const frames: FrameRequestCallback[] = []
    vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback))
    vi.stubGlobal('cancelAnimationFrame', () => {})
    const nextFrame = () => act(() => frames.splice(0).forEach((callback) => callback(performance.now())))
    const { emit } = setup()
    emit(batch(range(1, 120), 'c120'))
    emit(complete(120))
    expect(screen.getAllByTestId('suggestion')).toHaveLength(25)
    expect(screen.queryByTestId('summary')).toBeNull()
    nextFrame()
    expect(screen.getAllByTestId('suggestion')).toHaveLength(50)
    for (let frame = 0; frame < 3; frame++) nextFrame()
    expect(screen.getAllByTestId('suggestion')).toHaveLength(120)
    expect(rowNames().slice(23, 27)).toEqual(['Person 24', 'Person 25', 'Person 26', 'Person 27'])
    expect(screen.getByTestId('summary')).toHaveTextContent('120 suggestions')
  })

  it('announces new suggestions in a polite live region', () => {
    const { emit } = setup()
    const announcer = screen.getByTestId('announcer')
    expect(announcer).toHaveAttribute('aria-live', 'polite')
    emit(batch(range(1, 2)))
    expect(announcer).toHaveTextContent('2 new suggestions, 2 in all')
    emit(complete(2))
    expect(announcer).toHaveTextContent('All 2 suggestions loaded')
    emit(updated(range(2, 4)))
    expect(announcer).toHaveTextContent('Suggestions updated: 3')
  })

  it('shows a visible notice while throttled', () => {
    const { emit } = setup()
    emit(batch(range(1, 1)))
    emit(throttled('heap at 91%'))
    expect(screen.getByTestId('throttled')).toHaveTextContent('The server is busy (heap at 91%)')
    emit(batch(range(2, 2)))
    expect(screen.queryByTestId('throttled')).toBeNull()
  })

  it('shows the summary on complete, and an empty state only when the complete list is empty', () => {
    const { emit } = setup()
    emit(batch(range(1, 2)))
    emit(complete(2, 2000))
    expect(screen.getByTestId('summary')).toHaveTextContent('2 suggestions from 2000 contacts in 0.8 s')
    expect(screen.queryByText('Nobody to reach out to right now.')).toBeNull()
  })

  it('says so when there is nobody to suggest', () => {
    const { emit } = setup()
    emit(complete(0, 2000))
    expect(screen.getByText('Nobody to reach out to right now.')).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'Import contacts' })).toBeNull()
  })

  it('with no contacts at all, points to Add a contact and Import; nothing hidden is said, not offered as a button', async () => {
    const { emit } = setup()
    emit(complete(0, 0))
    expect(screen.getByText('Nobody to reach out to right now.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Add a contact' })).toHaveAttribute('href', '/contacts')
    expect(screen.getByRole('link', { name: 'Import contacts' })).toHaveAttribute('href', '/import')
    expect(await screen.findByText('Nothing hidden')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /hidden/ })).toBeNull()
  })

  it('replaces the list on SuggestionsUpdated without a reload or an empty list in between', async () => {
    const client = createFakeClient({ SuggestionsByStatus: statusLists() })
    // Rows on screen after every commit: an empty list in between would show as a 0.
    const counts: number[] = []
    renderWithClient(
      client,
      <Profiler id="view" onRender={() => counts.push(document.querySelectorAll('[data-testid=suggestion]').length)}>
        <SuggestionsView userZone={null} onUnauthorized={() => {}} />
      </Profiler>,
    )
    act(() => client.current.emit(batch(range(1, 3))))
    act(() => client.current.emit(complete(3)))
    // The status lists ask once the walk is complete: let their answers render first.
    await screen.findByText('Nothing hidden')
    const from = counts.length
    act(() => client.current.emit(updated([suggestion(3), suggestion(7)])))
    expect(counts.slice(from)).toEqual([2])
    expect(rowNames()).toEqual(['Person 3', 'Person 7'])
    expect(client.subscriptions).toHaveLength(1)
  })
})

describe('SuggestionsView: optimistic actions', () => {
  it('accept: the row moves to Planned at once ("Saving…"), then shows the server status', async () => {
    const answer = deferred<unknown>()
    const { emit, user, client } = setup({ AcceptSuggestion: () => answer.promise })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Accept Person 2' }))
    expect(rowNames()).toEqual(['Person 1', 'Person 3'])
    const planned = screen.getByRole('region', { name: 'Planned' })
    expect(planned).toHaveTextContent('Person 2')
    expect(within(planned).getByTestId('status')).toHaveTextContent('Saving…')
    expect(client.requests).toEqual([{ operation: 'AcceptSuggestion', variables: { id: 'sg_2' } }])
    await act(async () => answer.resolve({ acceptSuggestion: suggestion(2, { status: 'ACCEPTED' }) }))
    expect(within(planned).getByTestId('status')).toHaveTextContent('Planned')
    // The updated list no longer has the accepted contact: it stays planned.
    emit(updated([suggestion(1), suggestion(3)]))
    expect(within(screen.getByRole('region', { name: 'Planned' })).getByTestId('status')).toHaveTextContent('Planned')
  })

  it('accept that fails: the row comes back in its place, with a message', async () => {
    const answer = deferred<unknown>()
    const { emit, user } = setup({ AcceptSuggestion: () => answer.promise })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Accept Person 2' }))
    expect(rowNames()).toEqual(['Person 1', 'Person 3'])
    await act(async () => answer.reject(new ApiError('Suggestion not found', 'NOT_FOUND')))
    expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3'])
    expect(screen.queryByRole('region', { name: 'Planned' })).toBeNull()
    expect(screen.getByRole('alert')).toHaveTextContent('Could not accept Person 2: Suggestion not found')
    await user.click(screen.getByRole('button', { name: 'OK' }))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('dismiss: hidden at once; on failure back with a message', async () => {
    let fail = false
    const { emit, user } = setup({
      DismissSuggestion: async (variables) => {
        if (fail) throw new ApiError('Try later', 'MEMORY_PRESSURE')
        return { dismissSuggestion: suggestion(Number(String(variables.id).slice(3)), { status: 'DISMISSED' }) }
      },
    })
    emit(batch(range(1, 3)))
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 1' }))
    await waitFor(() => expect(rowNames()).toEqual(['Person 2', 'Person 3']))
    fail = true
    await user.click(screen.getByRole('button', { name: 'Dismiss Person 3' }))
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Could not dismiss Person 3: Try later'))
    expect(rowNames()).toEqual(['Person 2', 'Person 3'])
  })

  it('snooze: picks a date, sends it as a DateTime, hides the row; rolls back on failure', async () => {
    const answers: ReturnType<typeof deferred<unknown>>[] = []
    const { emit, user, client } = setup({
      SnoozeSuggestion: () => {
        const answer = deferred<unknown>()
        answers.push(answer)
        return answer.promise
      },
    })
    emit(batch(range(1, 2)))
    await user.click(screen.getByRole('button', { name: 'Snooze Person 1' }))
    const form = screen.getByRole('form', { name: 'Snooze Person 1' })
    const date = within(form).getByLabelText('Until')
    await user.clear(date)
    await user.type(date, '2099-03-04')
    await user.click(within(form).getByRole('button', { name: 'Snooze' }))
    expect(rowNames()).toEqual(['Person 2'])
    const sent = client.requests.at(-1)!
    expect(sent.operation).toBe('SnoozeSuggestion')
    expect(sent.variables.id).toBe('sg_1')
    expect(new Date(String(sent.variables.until)).getTime()).toBe(new Date(2099, 2, 4).getTime())
    await act(async () => answers[0]!.reject(new ApiError('until must be in the future', 'BAD_USER_INPUT')))
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    expect(screen.getByRole('alert')).toHaveTextContent('Could not snooze Person 1: until must be in the future')
  })

  it('every action is a real button, reachable with the keyboard; focus moves to the next row when one leaves', async () => {
    const { emit, user, client } = setup({ DismissSuggestion: async () => ({ dismissSuggestion: suggestion(1, { status: 'DISMISSED' }) }) })
    emit(batch(range(1, 2)))
    await user.tab() // the contact link
    await user.tab()
    expect(screen.getByRole('button', { name: 'Accept Person 1' })).toHaveFocus()
    await user.tab()
    await user.keyboard('{Enter}')
    expect(client.requests.at(-1)?.operation).toBe('DismissSuggestion')
    await waitFor(() => expect(rowNames()).toEqual(['Person 2']))
    expect(screen.getByRole('button', { name: 'Accept Person 2' })).toHaveFocus()
  })
})

describe('SuggestionsView: focus survives live updates', () => {
  it('a re-ranking with new suggestion ids keeps the same row (keyed by contact), and its focus', () => {
    const { emit } = setup()
    emit(batch(range(1, 3)))
    emit(complete(3))
    const button = screen.getByRole('button', { name: 'Dismiss Person 2' })
    act(() => button.focus())
    emit(updated([suggestion(3, { id: 'sg_new3' }), suggestion(2, { id: 'sg_new2' }), suggestion(1, { id: 'sg_new1' })]))
    expect(rowNames()).toEqual(['Person 3', 'Person 2', 'Person 1'])
    expect(screen.getByRole('button', { name: 'Dismiss Person 2' })).toBe(button)
    expect(button).toHaveFocus()
  })

  it('when the focused row leaves in an update, focus goes to the row now at its index, or the heading when none is left', () => {
    const { emit } = setup()
    emit(batch(range(1, 3)))
    emit(complete(3))
    act(() => screen.getByRole('button', { name: 'Snooze Person 2' }).focus())
    emit(updated([suggestion(1), suggestion(3)]))
    expect(screen.getByRole('button', { name: 'Accept Person 3' })).toHaveFocus()
    emit(updated([]))
    expect(screen.getByRole('heading', { name: 'Reach out' })).toHaveFocus()
  })
})

describe('SuggestionsView: connection life', () => {
  it('says when the stream dropped, then resumes from the cursor and shows live again, without duplicates', async () => {
    const { emit, client } = setup()
    emit(batch(range(1, 2), 'c2'))
    act(() => client.current.fail(new ApiError('The connection closed (1006).', 'CLOSED')))
    expect(screen.getByRole('alert')).toHaveTextContent(/^Connection lost\.$/)
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    await waitFor(() => expect(client.subscriptions).toHaveLength(2))
    expect(client.current.variables.input).toMatchObject({ resumeFrom: 'c2' })
    expect(screen.getByText('Reconnecting…')).toBeInTheDocument()
    emit(batch(range(3, 4), 'c4'))
    emit(complete(4))
    expect(rowNames()).toEqual(['Person 1', 'Person 2', 'Person 3', 'Person 4'])
    expect(screen.getByText('Live')).toBeInTheDocument()
  })

  it('after a complete list, a reconnect walks anew and swaps the list only when complete', async () => {
    const { emit, client } = setup()
    emit(batch(range(1, 2), 'c2'))
    emit(complete(2))
    act(() => client.current.fail(new ApiError('closed', 'CLOSED')))
    await waitFor(() => expect(client.subscriptions).toHaveLength(2))
    expect(client.current.variables.input).not.toHaveProperty('resumeFrom')
    emit(batch([suggestion(5)], 'n1'))
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    expect(screen.getByText(/Refreshing… 1 so far/)).toBeInTheDocument()
    emit(complete(1))
    expect(rowNames()).toEqual(['Person 5'])
  })

  it('offline: "Connection lost. Retrying in N s" counting down each second, no walk progress, the list kept; Retry now reconnects at once', async () => {
    vi.useFakeTimers()
    const client = createFakeClient({ SuggestionsByStatus: statusLists() })
    renderWithClient(client, <SuggestionsView userZone="Europe/Berlin" onUnauthorized={() => {}} backoff={() => 11_000} locks={null} />)
    act(() => client.current.emit(batch(range(1, 2), 'c2')))
    act(() => client.current.emit(complete(2)))
    act(() => client.current.fail(new ApiError('The connection closed (1006).', 'CLOSED')))
    expect(screen.getByRole('alert')).toHaveTextContent(/^Connection lost\.$/)
    expect(screen.getByTestId('retry-countdown')).toHaveTextContent('Retrying in 11 s')
    await act(() => vi.advanceTimersByTimeAsync(1_000))
    expect(screen.getByTestId('retry-countdown')).toHaveTextContent('Retrying in 10 s')
    await act(() => vi.advanceTimersByTimeAsync(3_000))
    expect(screen.getByTestId('retry-countdown')).toHaveTextContent('Retrying in 7 s')
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    expect(client.subscriptions).toHaveLength(1)
    act(() => screen.getByRole('button', { name: 'Retry now' }).click())
    expect(client.subscriptions).toHaveLength(2)
    expect(screen.getByText('Reconnecting…')).toBeInTheDocument()
    // A fresh walk is under way but not connected: no "Refreshing… 0 so far".
    expect(screen.queryByText(/Refreshing/)).toBeNull()
    expect(rowNames()).toEqual(['Person 1', 'Person 2'])
    // The timer it replaced does not subscribe a second time.
    await act(() => vi.advanceTimersByTimeAsync(20_000))
    expect(client.subscriptions).toHaveLength(2)
  })

  it('a rejected token signs out at once, without retrying', async () => {
    vi.useFakeTimers()
    const { client, onUnauthorized } = setup()
    act(() => client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN')))
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    // A minute: past any back-off (at most 15 s), here 10 ms.
    await act(() => vi.advanceTimersByTimeAsync(60_000))
    expect(client.subscriptions).toHaveLength(1)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('stops the subscription when the page goes away', () => {
    const client = createFakeClient()
    const { unmount } = renderWithClient(client, <SuggestionsView userZone={null} onUnauthorized={() => {}} />)
    unmount()
    expect(client.current.stopped).toBe(true)
  })
})
