/**
 * The change bus, in-process and over Redis, with the same tests. Over Redis,
 * two buses stand for two server processes: a change published on one reaches
 * a subscriber on the other.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createChangeBus, type ChangeBus, type ChangeKind } from '../../src/pubsub/changes.ts'
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
  let arrived = () => {}
  const pump = (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      // Probes (see `subscribed`) only say the subscription is live; they are not part of what a test expects.
      if ((next.value as { what?: string }).what === PROBE) listener.probed = true
      else received.push(next.value)
      arrived()
    }
  })()
  return {
    received,
    listener,
    /** Resolves with what came once `count` notices came (the test's timeout bounds the wait). */
    async until(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => (arrived = resolve))
      return received
    },
    async leave() {
      await iterator.return?.()
      await pump
    },
  }
}

/** A kind no test here publishes otherwise: the listeners drop it. */
const PROBE: ChangeKind = 'suggestion'

/**
 * Redis subscribes asynchronously: publishes probes from `bus` on each topic until every listener got one, so
 * the SUBSCRIBEs have reached the server (a fixed 100 ms pause was outlasted on a busy machine, and the test's
 * first notices went nowhere). Late probes are dropped by the listeners.
 */
async function subscribed(bus: ChangeBus, listeners: { userId: string; listener: { probed: boolean } }[]) {
  await vi.waitFor(
    () => {
      for (const { userId, listener } of listeners) if (!listener.probed) bus.pubsub.publish('user-changed', userId, { what: PROBE })
      expect(listeners.every(({ listener }) => listener.probed)).toBe(true)
    },
    { timeout: 30_000, interval: 20 },
  )
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
    // Nothing for bob: a notice published for him after alice's arrives, and alone (a subscriber gets the
    // notices in the order the bus took them, so one sent to him earlier would have come before it).
    b.pubsub.publish('user-changed', bob, { what: 'group' })
    expect(await bobOnA.until(1)).toEqual([{ what: 'group' }])
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
