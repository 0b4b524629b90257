/** Per-request loads shared by the resolvers of one execution step (one query for a whole page). */
import type { GraphQLContext } from './context.ts'

/**
 * `load` shared by the resolvers that run in the same turn of the event loop for one context and user:
 * a page of contacts (or of groups) reads it once, however many rows it has. Shared only until the
 * event loop moves on, not for the context's life: a subscription keeps its context for hours, and a
 * cache kept there showed every later event the data of the first one (a group created since was missing).
 */
export function perTurn<T>(load: (context: GraphQLContext, userId: string) => Promise<T>): (context: GraphQLContext, userId: string) => Promise<T> {
  const byContext = new WeakMap<GraphQLContext, Map<string, Promise<T>>>()
  return (context, userId) => {
    let byUser = byContext.get(context)
    if (!byUser) {
      byUser = new Map()
      byContext.set(context, byUser)
      // Resolvers of one execution step run before the check phase; the next event of a stream runs after it.
      setImmediate(() => byContext.delete(context))
    }
    let value = byUser.get(userId)
    if (!value) {
      value = load(context, userId)
      byUser.set(userId, value)
    }
    return value
  }
}
