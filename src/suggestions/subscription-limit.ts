/**
 * At most N concurrent streams per user in this process; a stream frees its
 * place however it ends: done, failed, returned by the transport, or its
 * request aborted before the transport ever took the stream (an SSE client
 * that leaves a few milliseconds after sending never gets `return()` called).
 * The key of a place is a user's pool (auth/user-pools.ts perUserPoolKey): the user's own session
 * and their partner credentials have separate places, so a partner cannot take the session's.
 */
import { ClientError } from '../errors.ts'

/** The part of an AbortSignal the limiter uses: Yoga's request signal is a look-alike that `AbortSignal.any` refuses. */
export type AbortLike = Pick<AbortSignal, 'aborted' | 'addEventListener' | 'removeEventListener'>

export class SubscriptionLimiter {
  private readonly active = new Map<string, number>()
  constructor(private readonly perUser: number) {}

  /**
   * Opens a stream under the user's limit, or throws RATE_LIMITED (then `open` is not called).
   * `open(release)` builds the stream; the stream calls `release` when it ends by itself while
   * its consumer hangs in a write: that frees the place and nothing else, so the transport still
   * reads how the stream ended, its last events and its error (returning it would turn a
   * MEMORY_PRESSURE or TIMEOUT into a silent `complete`). When `clientGone` aborts, the place is
   * freed and the stream returned, whether or not anyone iterates it.
   *
   * The wrapper is a plain iterator whose `next()` is not an async function: an idle live stream
   * waits in `next()` for hours, and a suspended async frame per layer costs about 1.4 KB.
   */
  wrap<T>(userId: string, open: (release: () => void) => AsyncGenerator<T, void, undefined>, clientGone?: AbortLike): AsyncGenerator<T, void, undefined> {
    const count = this.active.get(userId) ?? 0
    if (count >= this.perUser) {
      throw new ClientError('RATE_LIMITED', `at most ${this.perUser} suggestion streams at once per user`, { retryAfterSeconds: 1 })
    }
    if (clientGone?.aborted) return emptyStream()
    this.active.set(userId, count + 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      clientGone?.removeEventListener('abort', onAbort)
      const left = (this.active.get(userId) ?? 1) - 1
      if (left > 0) this.active.set(userId, left)
      else this.active.delete(userId)
    }
    const stream = open(release)
    const onAbort = () => {
      release()
      void stream.return(undefined).catch(() => {})
    }
    clientGone?.addEventListener('abort', onAbort, { once: true })
    const failed = (error: unknown): never => {
      release()
      throw error
    }
    // A plain iterator, not a generator: `return()` on a generator never started skips its `finally`.
    const wrapped: AsyncGenerator<T, void, undefined> = {
      next: () =>
        stream.next().then((result) => {
          if (result.done) release()
          return result
        }, failed),
      return: () => {
        release()
        return stream.return(undefined)
      },
      throw: (error: unknown) => {
        release()
        return stream.throw(error)
      },
      [Symbol.asyncIterator]: () => wrapped,
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
