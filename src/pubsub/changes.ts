/**
 * Per-user change notices: every write that can change a user's suggestions
 * publishes on the user's topic; live subscriptions listen there. graphql-yoga's
 * pubsub over an EventTarget: in-process by default, or over Redis pub/sub
 * (`@graphql-yoga/redis-event-target`, two ioredis connections, one of them
 * subscribing) so a write served by one process reaches subscribers on all.
 */
import { setMaxListeners } from 'node:events'
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { createPubSub, type PubSub } from 'graphql-yoga'
import { Redis } from 'ioredis'

export interface ChangeNotice {
  /** What changed, e.g. "contact", "interaction", "availability". */
  what: string
}

export type ChangePubSub = PubSub<{ 'user-changed': [userId: string, notice: ChangeNotice] }>

export interface ChangeBus {
  pubsub: ChangePubSub
  /** Closes the Redis connections (nothing in-process). */
  close(): Promise<void>
}

/** In-process without `redisUrl`; over Redis with it. */
export function createChangeBus(options: { redisUrl?: string | undefined } = {}): ChangeBus {
  if (!options.redisUrl) {
    const eventTarget = new EventTarget()
    // One listener per live subscription of a user: more than Node's warning level of 10 is normal.
    setMaxListeners(0, eventTarget)
    return { pubsub: createPubSub({ eventTarget }), close: async () => {} }
  }
  const publishClient = new Redis(options.redisUrl, { lazyConnect: false })
  const subscribeClient = new Redis(options.redisUrl, { lazyConnect: false })
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient })
  return {
    pubsub: createPubSub({ eventTarget }),
    async close() {
      await Promise.all([publishClient.quit(), subscribeClient.quit()].map((quit) => quit.catch(() => {})))
    },
  }
}
