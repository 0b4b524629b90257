/**
 * The change bus, in-process and over Redis, with the same tests. Over Redis,
 * two buses stand for two server processes: a change published on one reaches
 * a subscriber on the other.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import { createChangeBus, publishChange, type ChangeBus, type ChangeKind } from '../../src/pubsub/changes.ts'
import { redisAvailable, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'

const withRedis = await redisAvailable()
const kinds = [
  { name: 'in-process', open: () => { const bus = createChangeBus(); return [bus, bus] as const } },
  ...(withRedis ? [{ name: 'redis', open: () => [createChangeBus({ redisUrl: TEST_REDIS_URL }), createChangeBus({ redisUrl: TEST_REDIS_URL })] as const }] : []),
]

/** Collects what a subscriber receives, listening as a live stream does (`userChanges`: one listener per user, fanned out). */
function listen(bus: ChangeBus, userId: string) {
  const received: unknown[] = []
  const listener = { received, probed: false }
  let arrived = () => {}
  const unlisten = bus.userChanges(userId)((notice) => {
    // Probes (see `subscribed`) only say the subscription is live; they are not part of what a test expects.
    if (notice.what === PROBE) listener.probed = true
    else received.push(notice)
    arrived()
  })
  return {
    received,
    listener,
    /** Resolves with what came once `count` notices came (the test's timeout bounds the wait). */
    async until(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => (arrived = resolve))
      return received
    },
    async leave() {
      unlisten()
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
    // Two streams of one user on a process: one listener on the user's topic, fanned out.
    expect(a.listenerCount(`user-changed:${user}`)).toBe(1)
    await leaving.leave()
    await leaving.leave() // twice: nothing more
    b.pubsub.publish('user-changed', user, { what: 'availability' })
    expect(await staying.until(1)).toEqual([{ what: 'availability' }])
    expect(leaving.received).toEqual([])
    expect(a.listenerCount(`user-changed:${user}`)).toBe(1)
    await staying.leave()
    expect(a.listenerCount(`user-changed:${user}`)).toBe(0) // the last one left: the topic's listener is removed
  })

  it("tells every process's watcher of every user's change, before that process's subscribers of the user hear of it", async () => {
    const [a, b] = (buses = open())
    const user = uniquePrefix('dave')
    const order: string[] = []
    const reliable: boolean[] = []
    // What a process does (app.ts): each change moves the user's version there.
    await b.watchAllUsers({ changed: (userId) => void (userId === user && order.push('watcher')), reliable: (yes) => void reliable.push(yes) })
    expect(reliable.at(-1)).toBe(true)
    const subscriber = listen(b, user)
    await subscribed(a, [{ userId: user, listener: subscriber.listener }])
    order.length = 0
    const counted = subscriber.until(1).then(() => void order.push('subscriber'))
    publishChange(a.pubsub, user, { what: 'calendar' })
    await counted
    expect(order).toEqual(['watcher', 'subscriber'])
    await subscriber.leave()
  })
})

describe.skipIf(!withRedis)('change bus over Redis: a lost connection', () => {
  it('says notices may be lost when its connection drops, and that they are delivered again once it is back', async () => {
    const name = uniquePrefix('bus')
    const bus = createChangeBus({ redisUrl: TEST_REDIS_URL, connectionName: name })
    const other = createChangeBus({ redisUrl: TEST_REDIS_URL })
    const admin = new Redis(TEST_REDIS_URL)
    try {
      const reliable: boolean[] = []
      const changed: string[] = []
      await bus.watchAllUsers({ changed: (userId) => void changed.push(userId), reliable: (yes) => void reliable.push(yes) })
      expect(reliable).toEqual([false, true])
      // Only this bus's subscribing connection is cut (other tests share the Redis).
      const line = String(await admin.client('LIST')).split('\n').find((entry) => entry.includes(` name=${name}-subscribe `))!
      await admin.client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!)
      await vi.waitFor(() => expect(reliable).toEqual([false, true, false, true]), { timeout: 30_000 })
      // Subscribed again: a notice from another connection reaches the watcher.
      const user = uniquePrefix('erin')
      await vi.waitFor(
        () => {
          publishChange(other.pubsub, user, { what: 'contact' })
          expect(changed).toContain(user)
        },
        { timeout: 30_000, interval: 50 },
      )
    } finally {
      admin.disconnect()
      await Promise.all([bus.close(), other.close()])
    }
  })
})
