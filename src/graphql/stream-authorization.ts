/**
 * Authorization re-checked on long-lived streams, on every transport: an envelop
 * `onSubscribe` result hook watches the subscription's token and, when it is
 * revoked or expires, sends one last `UNAUTHENTICATED` error and ends the stream
 * (SSE ends; graphql-ws completes the operation, and its socket is closed with
 * 4403 by `websocket.ts`). The source stream is stopped at once, even when the
 * client is not reading.
 */
import { isAsyncIterable, type Plugin } from '@envelop/core'
import type { ExecutionResult } from 'graphql'
import { createGraphQLError } from 'graphql-yoga'
import type { TokenWatch } from '../auth/token-watch.ts'
import type { GraphQLContext } from './context.ts'

/** The message of the last event of a stream whose token died. */
export const TOKEN_ENDED_MESSAGE = 'Your token was revoked or expired: sign in again'

/** Envelop plugin: ends each subscription when the token it runs on dies (see {@link TokenWatch}). */
export function useStreamAuthorization(watch: TokenWatch): Plugin<GraphQLContext> {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        const credential = args.contextValue.credential
        if (!credential || !isAsyncIterable(result)) return
        let unwatch = () => {}
        const { stream, end } = endable(result[Symbol.asyncIterator](), () => unwatch())
        unwatch = watch.watch(credential, end)
        setResult(stream)
      },
    }),
  }
}

/**
 * `source`, until `end()` is called: then the pending or next `next()` gives one
 * UNAUTHENTICATED error result and the stream ends, and `source.return()` is
 * called at once (its walk and listeners stop). `release` runs once, however it ends.
 *
 * No AbortController and no async function: an idle live stream waits in `next()` for
 * hours, and each of those costs about a kilobyte per stream.
 */
export function endable(
  source: AsyncIterator<ExecutionResult>,
  release: () => void,
): { stream: AsyncGenerator<ExecutionResult, void, undefined>; end: () => void } {
  let ended = false
  let finished = false
  let lastSent = false
  let stopped = false
  const stopSource = () => {
    if (stopped) return
    stopped = true
    release()
    void Promise.resolve(source.return?.()).catch(() => {})
  }
  /** Answers the `next()` under way, if any, when the token dies. */
  let wake: ((result: IteratorResult<ExecutionResult, void>) => void) | undefined
  const done = { done: true, value: undefined } as const
  const last = (): IteratorResult<ExecutionResult, void> => {
    finished = true
    if (lastSent) return done
    lastSent = true
    return { done: false, value: { errors: [createGraphQLError(TOKEN_ENDED_MESSAGE, { extensions: { code: 'UNAUTHENTICATED' } })] } }
  }
  // The source stops when the token dies, not when the client next reads.
  const end = () => {
    if (ended) return
    ended = true
    stopSource()
    wake?.(last())
  }
  const stream: AsyncGenerator<ExecutionResult, void, undefined> = {
    next: () => {
      if (ended) return Promise.resolve(last())
      if (finished) return Promise.resolve(done)
      return new Promise<IteratorResult<ExecutionResult, void>>((resolve, reject) => {
        wake = resolve
        source.next().then(
          (next) => {
            wake = undefined
            if (next.done) {
              finished = true
              release()
              resolve(done)
            } else resolve(next)
          },
          (error: unknown) => {
            wake = undefined
            finished = true
            release()
            reject(error)
          },
        )
      })
    },
    return: () => {
      finished = true
      stopSource()
      return Promise.resolve(done)
    },
    throw: (error: unknown) => {
      finished = true
      stopSource()
      return Promise.reject(error)
    },
    [Symbol.asyncIterator]: () => stream,
  }
  return { stream, end }
}
