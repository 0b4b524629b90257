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
        const ended = new AbortController()
        const unwatch = watch.watch(credential, () => ended.abort())
        setResult(endWhenAborted(result[Symbol.asyncIterator](), ended.signal, unwatch))
      },
    }),
  }
}

/**
 * `source`, until `signal` aborts: then the pending or next `next()` gives one
 * UNAUTHENTICATED error result and the stream ends, and `source.return()` is
 * called at once (its walk and listeners stop). `release` runs once, however it ends.
 */
export function endWhenAborted(
  source: AsyncIterator<ExecutionResult>,
  signal: AbortSignal,
  release: () => void,
): AsyncGenerator<ExecutionResult, void, undefined> {
  let finished = false
  let lastSent = false
  let stopped = false
  const stopSource = () => {
    if (stopped) return
    stopped = true
    release()
    void Promise.resolve(source.return?.()).catch(() => {})
  }
  /** Wakes the `next()` under way, if any, when the token dies. */
  let wake: (() => void) | undefined
  // The source stops when the token dies, not when the client next reads.
  const onAbort = () => {
    stopSource()
    wake?.()
  }
  if (signal.aborted) stopSource()
  else signal.addEventListener('abort', onAbort, { once: true })
  const done = { done: true, value: undefined } as const
  const last = (): IteratorResult<ExecutionResult, void> => {
    finished = true
    if (lastSent) return done
    lastSent = true
    return { done: false, value: { errors: [createGraphQLError(TOKEN_ENDED_MESSAGE, { extensions: { code: 'UNAUTHENTICATED' } })] } }
  }
  const iterator: AsyncGenerator<ExecutionResult, void, undefined> = {
    async next() {
      if (signal.aborted) return last()
      if (finished) return done
      // A promise per call: racing one long-lived promise would pile a reaction on it per event.
      const aborted = new Promise<'aborted'>((resolve) => (wake = () => resolve('aborted')))
      let next: IteratorResult<ExecutionResult> | 'aborted'
      try {
        next = await Promise.race([source.next(), aborted])
      } catch (error) {
        finished = true
        release()
        throw error
      } finally {
        wake = undefined
      }
      if (next === 'aborted') return last()
      if (next.done) {
        finished = true
        release()
        return done
      }
      return next
    },
    async return() {
      finished = true
      stopSource()
      return done
    },
    async throw(error: unknown) {
      finished = true
      stopSource()
      throw error
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}
