/**
 * The stream wrapper of useStreamAuthorization: a dead token ends a
 * subscription at once, even one waiting for its next event or one whose
 * client is not reading, with one last UNAUTHENTICATED error; its source is
 * stopped and its watch released exactly once, however it ends.
 */
import type { ExecutionResult } from 'graphql'
import { describe, expect, it, vi } from 'vitest'
import { endable, TOKEN_ENDED_MESSAGE } from '../../src/graphql/stream-authorization.ts'

/** A source that never yields (an idle live stream) and records `return()`. */
function idleSource() {
  const returned = vi.fn(async () => ({ done: true as const, value: undefined }))
  const source: AsyncIterator<ExecutionResult> = { next: () => new Promise(() => {}), return: returned }
  return { source, returned }
}

describe('endable', () => {
  it('ends a stream waiting for its next event with one UNAUTHENTICATED error, then done', async () => {
    const { source, returned } = idleSource()
    const release = vi.fn()
    const { stream, end } = endable(source, release)
    const pending = stream.next()
    end()
    const last = await pending
    expect(last.done).toBe(false)
    expect(last.value).toMatchObject({ errors: [{ message: TOKEN_ENDED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }] })
    expect(await stream.next()).toEqual({ done: true, value: undefined })
    await stream.return()
    expect(returned).toHaveBeenCalledTimes(1)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('stops the source at once when the client is not reading', () => {
    const { source, returned } = idleSource()
    const release = vi.fn()
    endable(source, release).end()
    expect(returned).toHaveBeenCalledTimes(1)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('passes events through, and releases once when the source completes or the client leaves', async () => {
    async function* three() {
      yield { data: { n: 1 } }
      yield { data: { n: 2 } }
      yield { data: { n: 3 } }
    }
    const release = vi.fn()
    const values: unknown[] = []
    for await (const value of endable(three(), release).stream) values.push(value)
    expect(values).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }])
    expect(release).toHaveBeenCalledTimes(1)

    const { source, returned } = idleSource()
    const left = vi.fn()
    const { stream } = endable(source, left)
    await stream.return()
    await stream.return()
    expect(returned).toHaveBeenCalledTimes(1)
    expect(left).toHaveBeenCalledTimes(1)
  })

  it('ends at once when the token was dead before the first read', async () => {
    const { source, returned } = idleSource()
    const { stream, end } = endable(source, () => {})
    end()
    expect((await stream.next()).value).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] })
    expect((await stream.next()).done).toBe(true)
    expect(returned).toHaveBeenCalledTimes(1)
  })
})
