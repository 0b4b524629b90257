/**
 * Per-user change notices: every write that can change a user's suggestions
 * publishes on the user's topic; live subscriptions listen there. In-process
 * (graphql-yoga's pubsub over an EventTarget); a Redis EventTarget plugs in for
 * several processes.
 */
import { setMaxListeners } from 'node:events'
import { createPubSub, type PubSub } from 'graphql-yoga'

export interface ChangeNotice {
  /** What changed, e.g. "contact", "interaction", "availability". */
  what: string
}

export type ChangePubSub = PubSub<{ 'user-changed': [userId: string, notice: ChangeNotice] }>

export function createChangePubSub(): ChangePubSub {
  const eventTarget = new EventTarget()
  // One listener per live subscription of a user: more than Node's default warning level of 10 is normal.
  setMaxListeners(0, eventTarget)
  return createPubSub<{ 'user-changed': [userId: string, notice: ChangeNotice] }>({ eventTarget })
}
