/**
 * The change bus, in-process and over Redis, with the same tests. Over Redis,
 * two buses stand for two server processes: a change published on one reaches
 * a subscriber on the other.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createChangeBus, type ChangeBus } from '../../src/pubsub/changes.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'

const withRedis = await redisAvailable()
const kinds = [
  { name: 'in-process', open: () => { const bus = createChangeBus(); return [bus, bus] as const } },
  ...(withRedis ? [{ name: 'redis', open: () => [createChangeBus({ redisUrl: TEST_REDIS_URL }), createChangeBus({ redisUrl: TEST_REDIS_URL })] as const }] : []),
]

/** Collects what a subscriber receives. (The subscription starts with the first `next()`, as in live.ts.) */
function listen(bus: ChangeBus, userId: string) {
  const iterator = bus.pubsub.subscribe('user-changed', userId)[Symbol.asyncIterator]()
  const received: unknown[] = []
  const listener = { received, probed: false }
  const pump = (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      // Probes (see `subscribed`) only say the subscription is live; they are not part of what a test expects.
      if ((next.value as { what?: string }).what === PROBE) listener.probed = true
      else received.push(next.value)
    }
  })()
  return {
    received,
    listener,
    /** Waits until `count` notices came, or `ms` passed. */
    async until(count: number, ms = 10_000) {
      const started = Date.now()
      while (received.length < count && Date.now() - started < ms) await new Promise((resolve) => setTimeout(resolve, 10))
      return received
    },
    async leave() {
      await iterator.return?.()
      await pump
    },
  }
}

const PROBE = 'probe'

/**
 * Redis subscribes asynchronously: publishes probes from `bus` on each topic until every listener got one, so
 * the SUBSCRIBEs have reached the server (a fixed 100 ms pause was outlasted on a busy machine, and the test's
 * first notices went nowhere). Late probes are dropped by the listeners.
 */
async function subscribed(bus: ChangeBus, listeners: { userId: string; listener: { probed: boolean } }[]) {
  const deadline = Date.now() + 30_000
  while (!listeners.every(({ listener }) => listener.probed)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the subscriptions')
    for (const { userId } of listeners) bus.pubsub.publish('user-changed', userId, { what: PROBE })
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe.each(kinds)('change bus: $name', ({ open }) => {
  let buses: readonly ChangeBus[] = []
  afterEach(async () => {
    await Promise.all([...new Set(buses)].map((bus) => bus.close()))
  })

  it("delivers a user's changes to that user's subscribers, from another process too, and to nobody else", async () => {
    const [a, b] = (buses = open())
    const alice = uniquePrefix('alice')
    const bob = uniquePrefix('bob')
    const aliceOnA = listen(a, alice)
    const aliceOnB = listen(b, alice)
    const bobOnA = listen(a, bob)
    await subscribed(b, [
      { userId: alice, listener: aliceOnA.listener },
      { userId: alice, listener: aliceOnB.listener },
      { userId: bob, listener: bobOnA.listener },
    ])
    b.pubsub.publish('user-changed', alice, { what: 'contact' })
    a.pubsub.publish('user-changed', alice, { what: 'interaction' })
    expect(await aliceOnA.until(2)).toEqual([{ what: 'contact' }, { what: 'interaction' }])
    expect(await aliceOnB.until(2)).toEqual([{ what: 'contact' }, { what: 'interaction' }])
    expect(await bobOnA.until(1, 200)).toEqual([])
    await Promise.all([aliceOnA.leave(), aliceOnB.leave(), bobOnA.leave()])
  })

  it('stops delivering to a subscriber that left', async () => {
    const [a, b] = (buses = open())
    const user = uniquePrefix('carol')
    const leaving = listen(a, user)
    const staying = listen(a, user)
    await subscribed(b, [leaving, staying].map(({ listener }) => ({ userId: user, listener })))
    await leaving.leave()
    b.pubsub.publish('user-changed', user, { what: 'availability' })
    expect(await staying.until(1)).toEqual([{ what: 'availability' }])
    expect(leaving.received).toEqual([])
    await staying.leave()
  })
})
