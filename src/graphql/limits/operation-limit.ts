/**
 * At most `perUser` queries and mutations of one user execute at once in this
 * process, whatever the transport: one graphql-ws socket may otherwise send any
 * number of operations (each within the cost limit) and their results pile up
 * on the heap (seen: 400 pages of 1,000 contacts on one socket killed a 256 MB
 * process); 800 concurrent HTTP requests held the database pool for 35 s.
 * Past the bound: RATE_LIMITED with `retryAfterSeconds`, HTTP 429; the socket
 * stays open. Subscriptions have their own bound (SUBSCRIPTIONS_PER_USER).
 * The user's own session and their partner credentials (API keys, OAuth apps) count in pools of
 * their own (auth/user-pools.ts), so a partner at the bound never refuses the user's web client.
 * Anonymous operations can read no data and are bounded by the document limits.
 */
import type { Plugin } from 'graphql-yoga'
import { createGraphQLError } from 'graphql-yoga'
import { perUserPoolKey, type PoolHolder } from '../../auth/user-pools.ts'
import { withoutHttpStatus } from './errors.ts'

/** The envelop plugin; `running` counts this process's executing operations per user pool (perUserPoolKey; exposed for tests). */
export function useOperationLimit(perUser: number, running = new Map<string, number>()): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { userId?: string | null; request?: unknown; credential?: { kind?: PoolHolder } | null } | undefined
      if (!context?.userId) return
      const userId = perUserPoolKey(context.userId, context.credential?.kind)
      const count = running.get(userId) ?? 0
      if (count >= perUser) {
        const error = createGraphQLError(`At most ${perUser} operations of one user run at once${userId === context.userId ? '' : ' for all their partner credentials together'}; retry when one has finished.`, {
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1, http: { status: 429, headers: { 'retry-after': '1' } } },
        })
        // Over HTTP the context carries the request; graphql-ws has no HTTP status to give.
        setResultAndStopExecution({ errors: [context.request ? error : withoutHttpStatus(error)] })
        return
      }
      running.set(userId, count + 1)
      let released = false
      return {
        onExecuteDone() {
          if (released) return
          released = true
          const left = (running.get(userId) ?? 1) - 1
          if (left > 0) running.set(userId, left)
          else running.delete(userId)
        },
      }
    },
  }
}
