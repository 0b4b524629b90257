import { Repeater } from 'graphql-yoga'
import { describe, expect, it } from 'vitest'
import { SubscriptionLimiter } from '../../src/suggestions/subscription-limit.ts'

describe('SubscriptionLimiter.wrap', () => {
  it('frees the place of a stream that ended by itself, and the transport still reads the error it ended with', async () => {
    const limiter = new SubscriptionLimiter(1)
    // As live.ts does: the stream stops itself with an error (a walk's MEMORY_PRESSURE, a write TIMEOUT)
    // and says so through `release` (its onEnd) while the transport is not waiting in next().
    const wrapped = limiter.wrap(
      'user',
      (release) =>
        new Repeater<number, void, undefined>((push, stop) => {
          void push(1)
          stop(new Error('walk failed'))
          release()
        }) as AsyncGenerator<number, void, undefined>,
    )
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
    const wrapped = limiter.wrap('user', () => stream, gone.signal)
    const pending = wrapped.next()
    gone.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(returned).toBe(true)
    expect(limiter.count('user')).toBe(0)
  })

  it('refuses past the bound without opening the stream, and frees the place when the stream is done', async () => {
    const limiter = new SubscriptionLimiter(1)
    const first = limiter.wrap('user', () => new Repeater<number, void, undefined>((push, stop) => void push(1).then(() => stop())) as AsyncGenerator<number, void, undefined>)
    let opened = false
    expect(() => limiter.wrap('user', () => ((opened = true), first))).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }))
    expect(opened).toBe(false)
    expect(await first.next()).toEqual({ done: false, value: 1 })
    expect(await first.next()).toEqual({ done: true, value: undefined })
    expect(limiter.count('user')).toBe(0)
  })
})
