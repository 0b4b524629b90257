import { Repeater } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { SubscriptionLimiter } from '../../src/suggestions/subscription-limit.ts'

describe('SubscriptionLimiter.wrap', () => {
  it('frees the place of a stream that ended by itself, and the transport still reads the error it ended with', async () => {
    const limiter = new SubscriptionLimiter(1)
    const ended = new AbortController()
    // As live.ts does: the stream stops itself with an error (a walk's MEMORY_PRESSURE, a write TIMEOUT)
    // and says so through `ended` while the transport is not waiting in next().
    const stream = new Repeater<number, void, undefined>((push, stop) => {
      void push(1)
      stop(new Error('walk failed'))
      ended.abort()
    }) as AsyncGenerator<number, void, undefined>
    const wrapped = limiter.wrap('user', stream, undefined, ended.signal)
    expect(await wrapped.next()).toEqual({ done: false, value: 1 })
    expect(limiter.count('user')).toBe(0)
    await expect(wrapped.next()).rejects.toThrow('walk failed')
  })

  it('returns the stream when its client leaves', async () => {
    const limiter = new SubscriptionLimiter(1)
    const gone = new AbortController()
    let returned = false
    const stream = new Repeater<number, void, undefined>(async (push, stop) => {
      await stop
      returned = true
    }) as AsyncGenerator<number, void, undefined>
    const wrapped = limiter.wrap('user', stream, gone.signal)
    const pending = wrapped.next()
    gone.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(returned).toBe(true)
    expect(limiter.count('user')).toBe(0)
  })
})
