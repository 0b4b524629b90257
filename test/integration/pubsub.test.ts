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
  const pump = (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) received.push(next.value)
  })()
  return {
    received,
    /** Waits until `count` notices came, or `ms` passed. */
    async until(count: number, ms = 1000) {
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

/** Redis subscribes asynchronously: give the SUBSCRIBE time to reach the server. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

describe.each(kinds)('change bus: $name', ({ open }) => {
  let buses: readonly ChangeBus[] = []
  afterEach(async () => {
    await Promise.all([...new Set(buses)].map((bus) => bus.close()))
  })

  it("delivers a user's changes to that user's subscribers, from another process too, and to nobody else", async () => {
    const [a, b] = (buses = open())
    const alice = uniquePrefix('alice')
    const aliceOnA = listen(a, alice)
    const aliceOnB = listen(b, alice)
    const bobOnA = listen(a, uniquePrefix('bob'))
    await settle()
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
    await settle()
    await leaving.leave()
    b.pubsub.publish('user-changed', user, { what: 'availability' })
    expect(await staying.until(1)).toEqual([{ what: 'availability' }])
    expect(leaving.received).toEqual([])
    await staying.leave()
  })
})
