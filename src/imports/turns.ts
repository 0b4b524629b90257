/**
 * Long CPU work on one event loop (an import's reader, a batch of recurring events to expand) gives the
 * loop a turn now and then, so that the server's other requests, timers and database answers are not held
 * behind it: the loop is held at most about `maxMs` plus one step of the work.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

/** How long the import's CPU work runs before it lets the event loop take a turn (ms). */
export const MAX_TURN_MS = 10

/**
 * A function to await between steps of CPU work: it resolves at once while less than `maxMs` went by since
 * the last turn it gave, else after one turn of the event loop (`setImmediate`).
 */
export function turnGiver(maxMs: number = MAX_TURN_MS): () => Promise<void> {
  let since = performance.now()
  return async () => {
    if (performance.now() - since < maxMs) return
    await nextTurn()
    since = performance.now()
  }
}
