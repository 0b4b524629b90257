/**
 * At most N concurrent streams per user in this process; a stream frees its
 * place however it ends: done, failed, returned by the transport, or its
 * request aborted before the transport ever took the stream (an SSE client
 * that leaves a few milliseconds after sending never gets `return()` called).
 */
import { ClientError } from '../errors.ts'

/** The part of an AbortSignal the limiter uses: Yoga's request signal is a look-alike that `AbortSignal.any` refuses. */
export type AbortLike = Pick<AbortSignal, 'aborted' | 'addEventListener' | 'removeEventListener'>

export class SubscriptionLimiter {
  private readonly active = new Map<string, number>()
  constructor(private readonly perUser: number) {}

  /**
   * Runs `stream` under the user's limit, or throws RATE_LIMITED before it
   * starts (and returns `stream`). When `clientGone` aborts, the place is freed
   * and `stream` is returned, whether or not anyone iterates it. When `ended`
   * aborts (the stream ended by itself while its consumer hangs in a write), the
   * place is freed and nothing else: the transport still reads how the stream
   * ended, its last events and its error (returning it would turn a
   * MEMORY_PRESSURE or TIMEOUT into a silent `complete`).
   */
  wrap<T>(userId: string, stream: AsyncGenerator<T, void, undefined>, clientGone?: AbortLike, ended?: AbortLike): AsyncGenerator<T, void, undefined> {
    const count = this.active.get(userId) ?? 0
    if (count >= this.perUser) {
      void stream.return(undefined)
      throw new ClientError('RATE_LIMITED', `at most ${this.perUser} suggestion streams at once per user`, { retryAfterSeconds: 1 })
    }
    if (clientGone?.aborted || ended?.aborted) {
      void stream.return(undefined)
      return emptyStream()
    }
    this.active.set(userId, count + 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      clientGone?.removeEventListener('abort', onAbort)
      ended?.removeEventListener('abort', release)
      const left = (this.active.get(userId) ?? 1) - 1
      if (left > 0) this.active.set(userId, left)
      else this.active.delete(userId)
    }
    const onAbort = () => {
      release()
      void stream.return(undefined).catch(() => {})
    }
    clientGone?.addEventListener('abort', onAbort, { once: true })
    ended?.addEventListener('abort', release, { once: true })
    // A plain iterator, not a generator: `return()` on a generator never started skips its `finally`.
    const wrapped: AsyncGenerator<T, void, undefined> = {
      async next() {
        try {
          const result = await stream.next()
          if (result.done) release()
          return result
        } catch (error) {
          release()
          throw error
        }
      },
      async return() {
        release()
        return stream.return(undefined)
      },
      async throw(error: unknown) {
        release()
        return stream.throw(error)
      },
      [Symbol.asyncIterator]() {
        return wrapped
      },
    }
    return wrapped
  }

  /** Streams open in this process. */
  total(): number {
    let sum = 0
    for (const count of this.active.values()) sum += count
    return sum
  }

  /** Streams open for the user (for tests and metrics). */
  count(userId: string): number {
    return this.active.get(userId) ?? 0
  }
}

/** A stream that has already ended (its client left before it began). */
async function* emptyStream<T>(): AsyncGenerator<T, void, undefined> {}
