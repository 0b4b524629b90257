import { describe, expect, it, vi } from 'vitest'
import { createFakeClient, type FakeClient } from '../../test/fake-client.tsx'
import { createFakeBrowser, type FakeBrowser } from '../../test/fake-tabs.ts'
import { batch, complete, range, updated } from '../../test/fixtures.ts'
import { ApiError } from '../api/errors.ts'
import { initialSuggestionsState, suggestionsReducer, type SuggestionsEvent, type SuggestionsState } from './reducer.ts'
import { startSharedSuggestionsStream, type StreamRole } from './shared-stream.ts'

/** One tab: its own client (its own socket), the browser's locks and channels, its reducer's state. */
function openTab(browser: FakeBrowser) {
  const client = createFakeClient()
  const tab = {
    client,
    state: initialSuggestionsState as SuggestionsState,
    events: [] as SuggestionsEvent[],
    role: null as StreamRole | null,
    onUnauthorized: vi.fn(),
    stop: () => {},
  }
  tab.stop = startSharedSuggestionsStream({
    client,
    scope: 'user-1',
    locks: browser.locks,
    openChannel: browser.openChannel,
    backoff: () => 1,
    onRole: (role) => void (tab.role = role),
    onUnauthorized: tab.onUnauthorized,
    dispatch: (event) => {
      tab.events.push(event)
      tab.state = suggestionsReducer(tab.state, event)
    },
  })
  return tab
}

const names = (state: SuggestionsState) => state.items.map((item) => item.contact.name)
const subscriptionsOf = (clients: FakeClient[]) => clients.flatMap((client) => client.subscriptions.filter((s) => !s.stopped))

describe('one suggestions stream for all the tabs of a browser', () => {
  it('the first tab leads and subscribes; the others follow, subscribe to nothing and render its events', async () => {
    const browser = createFakeBrowser()
    const tabs = Array.from({ length: 7 }, () => openTab(browser))
    await vi.waitFor(() => expect(tabs[0]!.role).toBe('leader'))
    await browser.flush()
    expect(tabs.slice(1).map((tab) => tab.role)).toEqual(Array(6).fill('follower'))
    expect(subscriptionsOf(tabs.map((tab) => tab.client))).toHaveLength(1)
    tabs[0]!.client.current.open()
    tabs[0]!.client.current.emit(batch(range(1, 3), 'c3', 300))
    await browser.flush()
    for (const tab of tabs) {
      expect(names(tab.state)).toEqual(['Person 1', 'Person 2', 'Person 3'])
      expect(tab.state.connection).toBe('live')
      expect(tab.state.scanned).toBe(300)
    }
  })

  it('a tab that joins later gets the current list at once (a snapshot), then the events', async () => {
    const browser = createFakeBrowser()
    const leader = openTab(browser)
    await vi.waitFor(() => expect(leader.role).toBe('leader'))
    leader.client.current.emit(batch(range(1, 2), 'c2'))
    leader.client.current.emit(complete(2))
    const late = openTab(browser)
    await browser.flush()
    expect(late.events.map((event) => event.type)).toEqual(['snapshot'])
    expect(names(late.state)).toEqual(['Person 1', 'Person 2'])
    expect(late.state.phase).toBe('complete')
    expect(late.state.summary).toEqual(leader.state.summary)
    leader.client.current.emit(updated(range(2, 4)))
    await browser.flush()
    expect(names(late.state)).toEqual(['Person 2', 'Person 3', 'Person 4'])
    expect(late.client.subscriptions).toHaveLength(0)
  })

  it('when the leader goes mid-walk, the next tab takes over and resumes after the last cursor', async () => {
    const browser = createFakeBrowser()
    const first = openTab(browser)
    const second = openTab(browser)
    await vi.waitFor(() => expect(first.role).toBe('leader'))
    first.client.current.emit(batch(range(1, 2), 'c2'))
    await browser.flush()
    first.stop()
    expect(first.client.current.stopped).toBe(true)
    await vi.waitFor(() => expect(second.role).toBe('leader'))
    expect(second.client.subscriptions).toHaveLength(1)
    expect(second.client.current.variables.input).toMatchObject({ resumeFrom: 'c2', live: true })
    second.client.current.emit(batch(range(3, 3), 'c3'))
    expect(names(second.state)).toEqual(['Person 1', 'Person 2', 'Person 3'])
  })

  it('after a complete list the new leader walks anew, keeping the list on screen (and on the followers) until the new one is complete', async () => {
    const browser = createFakeBrowser()
    const [first, second, third] = [openTab(browser), openTab(browser), openTab(browser)]
    await vi.waitFor(() => expect(first.role).toBe('leader'))
    first.client.current.emit(batch(range(1, 2), 'c2'))
    first.client.current.emit(complete(2))
    await browser.flush()
    first.stop()
    await vi.waitFor(() => expect(second.role).toBe('leader'))
    expect(second.client.current.variables.input).not.toHaveProperty('resumeFrom')
    second.client.current.emit(batch(range(5, 5), 'n1'))
    await browser.flush()
    expect(names(third.state)).toEqual(['Person 1', 'Person 2'])
    second.client.current.emit(complete(1))
    await browser.flush()
    expect(names(third.state)).toEqual(['Person 5'])
    expect(third.role).toBe('follower')
    expect(subscriptionsOf([first.client, second.client, third.client])).toHaveLength(1)
  })

  it('a rejected token signs every tab out; a lasting refusal reaches the followers and is not retried', async () => {
    const browser = createFakeBrowser()
    const [leader, follower] = [openTab(browser), openTab(browser)]
    await vi.waitFor(() => expect(leader.role).toBe('leader'))
    leader.client.current.fail(new ApiError('Not yours', 'FORBIDDEN'))
    await browser.flush()
    expect(follower.state.connection).toBe('refused')
    expect(follower.state.dropReason).toBe('The server refused the suggestions: Not yours')
    expect(leader.client.subscriptions).toHaveLength(1)

    const other = createFakeBrowser()
    const [a, b] = [openTab(other), openTab(other)]
    await vi.waitFor(() => expect(a.role).toBe('leader'))
    a.client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN'))
    await other.flush()
    expect(a.onUnauthorized).toHaveBeenCalledTimes(1)
    expect(b.onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('a tab stopped while waiting in line leaves the queue; without Web Locks each tab runs its own stream', async () => {
    const browser = createFakeBrowser()
    const leader = openTab(browser)
    const waiting = openTab(browser)
    await vi.waitFor(() => expect(browser.lockState('suggestions-stream:user-1')).toEqual({ held: true, waiting: 1 }))
    waiting.stop()
    expect(browser.lockState('suggestions-stream:user-1')).toEqual({ held: true, waiting: 0 })
    leader.stop()
    await vi.waitFor(() => expect(browser.lockState('suggestions-stream:user-1').held).toBe(false))
    expect(waiting.client.subscriptions).toHaveLength(0)

    const client = createFakeClient()
    const stop = startSharedSuggestionsStream({ client, scope: 'x', locks: null, dispatch: () => {}, onUnauthorized: () => {} })
    expect(client.subscriptions).toHaveLength(1)
    stop()
  })
})
