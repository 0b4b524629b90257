import { describe, expect, it, vi } from 'vitest'
import { createFakeClient } from '../../test/fake-client.tsx'
import { batch, complete, range, updated } from '../../test/fixtures.ts'
import { ApiError } from '../api/errors.ts'
import type { SuggestionsEvent } from './reducer.ts'
import { backoffDelay, isLastingRefusal, nextPosition, startSuggestionsStream, type StreamPosition } from './stream.ts'

function harness(options: { maxSuggestions?: number; batchSize?: number; from?: StreamPosition } = {}) {
  const client = createFakeClient()
  const events: SuggestionsEvent[] = []
  const timers: { run: () => void; ms: number; cleared: boolean }[] = []
  const onUnauthorized = vi.fn()
  const stop = startSuggestionsStream({
    client,
    ...options,
    dispatch: (event) => events.push(event),
    onUnauthorized,
    backoff: (attempt) => 100 * (attempt + 1),
    setTimer: (run, ms) => {
      const timer = { run, ms, cleared: false }
      timers.push(timer)
      return timer
    },
    clearTimer: (timer) => void ((timer as { cleared: boolean }).cleared = true),
  })
  const fireTimer = () => {
    const timer = timers.at(-1)
    if (!timer || timer.cleared) throw new Error('no pending timer')
    timer.run()
  }
  return { client, events, timers, onUnauthorized, stop, fireTimer }
}

const dropped = () => new ApiError('The connection closed (1006).', 'CLOSED')

describe('startSuggestionsStream', () => {
  it('subscribes live with the input and hands every event to the reducer', () => {
    const { client, events } = harness({ maxSuggestions: 500, batchSize: 20 })
    expect(client.current.variables).toEqual({ input: { live: true, maxSuggestions: 500, batchSize: 20 } })
    client.current.emit(batch(range(1, 2), 'c2'))
    client.current.emit(complete(2))
    client.current.emit(updated(range(1, 1)))
    expect(events.map((event) => event.type)).toEqual(['subscribed', 'received', 'received', 'received'])
    expect(events[0]).toEqual({ type: 'subscribed', resumeFrom: null })
  })

  it('after a drop mid-walk, waits the back-off and resumes from the last batch cursor', () => {
    const { client, events, timers, fireTimer } = harness({ maxSuggestions: 50 })
    client.current.emit(batch(range(1, 2), 'c2'))
    client.current.emit(batch(range(3, 4), 'c4'))
    client.current.fail(dropped())
    expect(events.at(-1)).toEqual({ type: 'dropped', message: 'The connection to the server was lost.', retryInMs: 100, at: expect.any(Number) })
    expect(client.subscriptions).toHaveLength(1)
    expect(timers.at(-1)?.ms).toBe(100)
    fireTimer()
    expect(client.subscriptions).toHaveLength(2)
    expect(client.current.variables.input).toEqual({ live: true, maxSuggestions: 50, resumeFrom: 'c4' })
    expect(events.at(-1)).toEqual({ type: 'subscribed', resumeFrom: 'c4' })
  })

  it('backs off longer on each failed attempt and starts again from the first delay once events flow', () => {
    const { client, timers, fireTimer } = harness()
    client.current.fail(dropped())
    fireTimer()
    client.current.fail(dropped())
    fireTimer()
    client.current.fail(dropped())
    expect(timers.map((timer) => timer.ms)).toEqual([100, 200, 300])
    fireTimer()
    client.current.emit(batch(range(1, 1), 'c1'))
    client.current.fail(dropped())
    expect(timers.at(-1)?.ms).toBe(100)
  })

  it('a refused resume cursor (BAD_USER_INPUT) is dropped: the next attempt walks anew instead of sending it again', () => {
    const { client, fireTimer } = harness()
    client.current.emit(batch(range(1, 2), 'c2'))
    client.current.fail(dropped())
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true, resumeFrom: 'c2' })
    client.current.fail(new ApiError('input.resumeFrom: invalid cursor', 'BAD_USER_INPUT'))
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true })
  })

  it('a drop before the first batch starts a fresh walk', () => {
    const { client, fireTimer } = harness()
    client.current.fail(dropped())
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true })
  })

  it('after SuggestionsComplete, a drop starts a fresh walk (no resumeFrom), and a drop during that walk resumes it', () => {
    const { client, events, fireTimer } = harness()
    client.current.emit(batch(range(1, 2), 'c2'))
    client.current.emit(complete(2))
    client.current.fail(dropped())
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true })
    expect(events.at(-1)).toEqual({ type: 'subscribed', resumeFrom: null })
    client.current.emit(batch(range(1, 1), 'n1'))
    client.current.fail(dropped())
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true, resumeFrom: 'n1' })
  })

  it('a rejected token (close 4403) stops at once: no retry, the app signs out', () => {
    const { client, events, timers, onUnauthorized } = harness()
    client.current.fail(new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN'))
    expect(events.at(-1)).toEqual({ type: 'unauthorized' })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(timers).toHaveLength(0)
    expect(client.subscriptions).toHaveLength(1)
  })

  it('UNAUTHENTICATED from the operation also signs out', () => {
    const { client, onUnauthorized, timers } = harness()
    client.current.fail(new ApiError('Sign in', 'UNAUTHENTICATED'))
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(timers).toHaveLength(0)
  })

  it('RATE_LIMITED waits as long as the server asks, and shows its message', () => {
    const { client, events, timers } = harness()
    client.current.fail(new ApiError('Too many suggestion streams', 'RATE_LIMITED', 7))
    expect(timers.at(-1)?.ms).toBe(7000)
    expect(events.at(-1)).toEqual({ type: 'dropped', message: 'Too many suggestion streams', retryInMs: 7000, at: expect.any(Number) })
  })

  it('comes back when the server ends a live stream', () => {
    const { client, events, fireTimer } = harness()
    client.current.emit(batch(range(1, 1), 'c1'))
    client.current.end()
    expect(events.at(-1)).toMatchObject({ type: 'dropped' })
    fireTimer()
    expect(client.current.variables.input).toEqual({ live: true, resumeFrom: 'c1' })
  })

  it('stop unsubscribes and cancels a pending retry', () => {
    const first = harness()
    first.stop()
    expect(first.client.current.stopped).toBe(true)
    const second = harness()
    second.client.current.fail(dropped())
    second.stop()
    expect(second.timers.at(-1)?.cleared).toBe(true)
  })
})

describe('backoffDelay', () => {
  it('doubles from 0.5 s up to 15 s, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => backoffDelay(attempt, () => 1))).toEqual([500, 1000, 2000, 4000, 15_000])
    expect(backoffDelay(0, () => 0)).toBe(250)
    expect(backoffDelay(20, () => 0)).toBe(7500)
  })
})

describe('startSuggestionsStream: refusals that waiting will not clear', () => {
  it.each([
    ['FORBIDDEN', new ApiError('Not allowed', 'FORBIDDEN')],
    ['RATE_LIMITED without retryAfterSeconds', new ApiError('the server is at capacity', 'RATE_LIMITED')],
    ['QUOTA_EXCEEDED', new ApiError('Quota reached', 'QUOTA_EXCEEDED')],
    ['BAD_USER_INPUT on a fresh walk', new ApiError('maxSuggestions must be at most 500', 'BAD_USER_INPUT')],
  ])('%s: shown as refused, no attempt scheduled', (_name, error) => {
    const { client, events, timers } = harness()
    client.current.emit(batch(range(1, 1), 'c1'))
    client.current.emit(complete(1))
    client.current.fail(error)
    expect(events.at(-1)).toEqual({ type: 'refused', message: `The server refused the suggestions: ${error.message}` })
    expect(timers).toHaveLength(0)
    expect(client.subscriptions).toHaveLength(1)
  })

  it('a refusal with retryAfterSeconds, a lost connection, a bad cursor mid-walk: retried', () => {
    expect(isLastingRefusal(new ApiError('busy', 'RATE_LIMITED', 2), false)).toBe(false)
    expect(isLastingRefusal(new ApiError('closed', 'CLOSED'), false)).toBe(false)
    expect(isLastingRefusal(new ApiError('pressure', 'MEMORY_PRESSURE'), false)).toBe(false)
    expect(isLastingRefusal(new ApiError('bad cursor', 'BAD_USER_INPUT'), true)).toBe(false)
    const { client, timers, fireTimer } = harness()
    client.current.fail(new ApiError('at capacity', 'RATE_LIMITED', 3))
    expect(timers.at(-1)?.ms).toBe(3000)
    // Refused again and again: the back-off grows past the server's hint (the harness's is 100 ms per attempt).
    for (let attempt = 1; attempt < 40; attempt++) {
      fireTimer()
      client.current.fail(new ApiError('at capacity', 'RATE_LIMITED', 3))
    }
    expect(timers.at(-1)?.ms).toBe(4000)
  })
})

describe('startSuggestionsStream: taking over another tab\'s stream', () => {
  it('resumes after the position it is given, or walks anew when that walk was complete', () => {
    expect(harness({ from: { cursor: 'c7', complete: false } }).client.current.variables.input).toEqual({ live: true, resumeFrom: 'c7' })
    const fresh = harness({ from: { cursor: 'c7', complete: true } })
    expect(fresh.client.current.variables.input).toEqual({ live: true })
    expect(fresh.events[0]).toEqual({ type: 'subscribed', resumeFrom: null })
  })

  it('nextPosition follows the batches, the completion and a fresh walk', () => {
    let position: StreamPosition = { cursor: null, complete: false }
    position = nextPosition(position, { type: 'received', event: batch(range(1, 1), 'c1') })
    expect(position).toEqual({ cursor: 'c1', complete: false })
    position = nextPosition(position, { type: 'received', event: complete(1) })
    expect(position).toEqual({ cursor: 'c1', complete: true })
    expect(nextPosition(position, { type: 'received', event: updated([]) })).toBe(position)
    expect(nextPosition(position, { type: 'subscribed', resumeFrom: null })).toEqual({ cursor: null, complete: false })
  })

  it('tells when the socket opened', () => {
    const { client, events } = harness()
    client.current.open()
    expect(events.map((event) => event.type)).toEqual(['subscribed', 'opened'])
  })
})
