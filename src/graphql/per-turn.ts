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

/**
 * A batch loader: `load(context, key)` calls made in the same turn of the event loop for one context
 * (a page of contacts, each asking for its own rows) are answered by ONE call of `loadMany` with all
 * their keys, made when the turn ends. Like {@link perTurn}, nothing is kept past the turn.
 *
 * @param loadMany reads the values of `keys` (distinct); a key it leaves out gets `missing`.
 */
export function batchPerTurn<K, V>(
  loadMany: (context: GraphQLContext, keys: K[]) => Promise<Map<K, V>>,
  missing: V,
): (context: GraphQLContext, key: K) => Promise<V> {
  const pending = new WeakMap<GraphQLContext, { keys: Set<K>; values: Promise<Map<K, V>> }>()
  return (context, key) => {
    let batch = pending.get(context)
    if (!batch) {
      const keys = new Set<K>()
      const values = new Promise<Map<K, V>>((resolve, reject) =>
        setImmediate(() => {
          pending.delete(context)
          loadMany(context, [...keys]).then(resolve, reject)
        }),
      )
      batch = { keys, values }
      pending.set(context, batch)
    }
    batch.keys.add(key)
    return batch.values.then((values) => (values.has(key) ? values.get(key)! : missing))
  }
}
