/**
 * The engine's per-user caches without a database: a stand-in Prisma that counts its reads (and can
 * hold one back), the real change versions. What a cache serves must be what a fresh read would give:
 * the integration test (test/integration/engine-caches.test.ts) compares with the database.
 */
import { describe, expect, it } from 'vitest'
import { ChangeVersions } from '../../src/changes/change-versions.ts'
import { freeSlots } from '../../src/calendar/free-slots.ts'
import type { CacheSizes } from '../../src/config.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { createEngineCaches, FREE_TIME_SLACK_MS, UserCache } from '../../src/suggestions/engine-caches.ts'
import type { StatusRow } from '../../src/suggestions/suggestion-status.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = new Date('2030-01-07T06:00:00Z') // a Monday
const at = (ms: number) => new Date(T0.getTime() + ms)
const SIZES: CacheSizes = { timezoneUsers: 100, freeTimeBytes: 1024 * 1024, suggestionStateRows: 1000 }

/** A promise the test settles. */
function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

/** What the stand-in database holds of every user, and how often each table was read. */
function fakePrisma() {
  const data = {
    timezone: 'Europe/Berlin',
    windows: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 18 * 60, endMinute: 21 * 60 })),
    events: [{ startsAt: at(DAY + 12 * HOUR), endsAt: at(DAY + 13 * HOUR + 30 * 60_000) }],
    statuses: [] as StatusRow[],
    logged: [] as { contactId: string; _max: { createdAt: Date } }[],
  }
  const reads = { user: 0, availability: 0, calendarEvent: 0, suggestion: 0, interaction: 0 }
  let holdUser: Promise<unknown> | undefined
  const prisma = {
    user: {
      findUniqueOrThrow: async () => {
        reads.user++
        const timezone = data.timezone
        await holdUser
        return { timezone }
      },
    },
    availability: { findMany: async () => (reads.availability++, data.windows) },
    calendarEvent: {
      findMany: async ({ where }: { where: { startsAt: { lt: Date }; endsAt: { gt: Date } } }) => (
        reads.calendarEvent++, data.events.filter((event) => event.startsAt < where.startsAt.lt && event.endsAt > where.endsAt.gt)
      ),
    },
    suggestion: { findMany: async () => (reads.suggestion++, data.statuses) },
    interaction: { groupBy: async () => (reads.interaction++, data.logged) },
  } as unknown as PrismaClient
  return { prisma, data, reads, hold: (until: Promise<unknown> | undefined) => (holdUser = until) }
}

function setUp(sizes: CacheSizes = SIZES) {
  const db = fakePrisma()
  const versions = new ChangeVersions()
  const caches = createEngineCaches({ prisma: db.prisma, versions, sizes, horizonDays: 7, dismissForMs: 7 * DAY })
  return { ...db, versions, caches }
}

describe('the engine caches', () => {
  it("reads a user's time zone once, and again after a change of that user (not of another)", async () => {
    const { caches, reads, data, versions } = setUp()
    expect(await caches.userTimezone('alice')).toBe('Europe/Berlin')
    expect(await caches.userTimezone('alice')).toBe('Europe/Berlin')
    expect(reads.user).toBe(1)
    versions.bump('bob')
    expect(await caches.userTimezone('alice')).toBe('Europe/Berlin')
    expect(reads.user).toBe(1)
    data.timezone = 'Asia/Tokyo'
    versions.bump('alice') // the write's announcement
    expect(await caches.userTimezone('alice')).toBe('Asia/Tokyo')
    expect(reads.user).toBe(2)
  })

  it('does not store a read during which a change of the user came: the next walk reads again', async () => {
    const { caches, reads, data, versions, hold } = setUp()
    const held = deferred<void>()
    hold(held.promise)
    const before = caches.userTimezone('alice') // reads the old zone, then waits
    data.timezone = 'Asia/Tokyo'
    versions.bump('alice') // the write lands while the read is under way
    held.resolve()
    expect(await before).toBe('Europe/Berlin')
    hold(undefined)
    expect(await caches.userTimezone('alice')).toBe('Asia/Tokyo')
    expect(await caches.userTimezone('alice')).toBe('Asia/Tokyo')
    expect(reads.user).toBe(2)
  })

  it('neither serves nor stores while change notices may be lost, and starts afresh when they are delivered again', async () => {
    const { caches, reads, versions, data } = setUp()
    await caches.userTimezone('alice')
    versions.setTrusted(false) // the Redis connection carrying notices dropped
    data.timezone = 'Asia/Tokyo' // a write on another process: its notice is lost
    expect(await caches.userTimezone('alice')).toBe('Asia/Tokyo')
    expect(await caches.userTimezone('alice')).toBe('Asia/Tokyo')
    expect(reads.user).toBe(3)
    versions.setTrusted(true)
    await caches.userTimezone('alice')
    await caches.userTimezone('alice')
    expect(reads.user).toBe(4)
  })

  it("serves the free time to walks up to the slack after the read, clipped to each walk's horizon, as fresh", async () => {
    const { caches, reads, data } = setUp()
    const fresh = (now: Date) =>
      freeSlots({
        windows: data.windows,
        timezone: 'Europe/Berlin',
        busy: data.events.map((event) => ({ start: event.startsAt, end: event.endsAt })),
        from: now,
        to: new Date(now.getTime() + 7 * DAY),
      })
    for (const now of [T0, at(17 * 60_000 + 123), at(FREE_TIME_SLACK_MS)]) {
      expect(await caches.defaultSlots('alice', now, 'Europe/Berlin')).toEqual(fresh(now))
    }
    expect(reads.calendarEvent).toBe(1)
    // Past the slack the horizon runs beyond what was read; before the read, what was read starts too late.
    const later = at(FREE_TIME_SLACK_MS + 1)
    expect(await caches.defaultSlots('alice', later, 'Europe/Berlin')).toEqual(fresh(later))
    expect(reads.calendarEvent).toBe(2)
    const earlier = at(FREE_TIME_SLACK_MS + 1 - 60_000)
    expect(await caches.defaultSlots('alice', earlier, 'Europe/Berlin')).toEqual(fresh(earlier))
    expect(reads.calendarEvent).toBe(3)
    // Another zone (the user's changed and the engine passes it): read again.
    await caches.defaultSlots('alice', earlier, 'Asia/Tokyo')
    expect(reads.calendarEvent).toBe(4)
  })

  it("computes the statuses at each walk's `now` from the rows it read: a snooze ends without a read", async () => {
    const { caches, reads, data } = setUp()
    data.statuses = [
      { contactId: 'snoozed', status: 'SNOOZED', slotStart: null, slotEnd: null, updatedAt: at(-DAY), snoozedUntil: at(2 * HOUR) },
      { contactId: 'dismissed', status: 'DISMISSED', slotStart: null, slotEnd: null, updatedAt: at(-6 * DAY - 23 * HOUR), snoozedUntil: null },
      { contactId: 'accepted', status: 'ACCEPTED', slotStart: at(3 * HOUR), slotEnd: at(3.5 * HOUR), updatedAt: at(-HOUR), snoozedUntil: null },
      { contactId: 'called', status: 'ACCEPTED', slotStart: null, slotEnd: null, updatedAt: at(-2 * HOUR), snoozedUntil: null },
    ]
    data.logged = [{ contactId: 'called', _max: { createdAt: at(-HOUR) } }]
    const first = await caches.suggestionState('alice', T0)
    expect([...first.excluded].sort()).toEqual(['accepted', 'dismissed', 'snoozed'])
    expect(first.taken).toEqual([{ start: at(3 * HOUR), end: at(3.5 * HOUR) }])
    // The dismissal ends after an hour, the snooze after two, the accepted slot after three and a half.
    expect([...(await caches.suggestionState('alice', at(HOUR + 1))).excluded].sort()).toEqual(['accepted', 'snoozed'])
    expect([...(await caches.suggestionState('alice', at(2 * HOUR))).excluded]).toEqual(['accepted'])
    expect(await caches.suggestionState('alice', at(3.5 * HOUR))).toEqual({ excluded: new Set(), taken: [] })
    expect(reads.suggestion).toBe(1)
    expect(reads.interaction).toBe(1)
    // A walk at an earlier time (a resumed one) reads again: rows that had ended by the read are missing.
    await caches.suggestionState('alice', at(-HOUR))
    expect(reads.suggestion).toBe(2)
  })

  it('keeps within its bound: the least recently used user goes first', async () => {
    const { caches, reads } = setUp({ ...SIZES, timezoneUsers: 2 })
    for (const user of ['a', 'b', 'a', 'c', 'a', 'b']) await caches.userTimezone(user)
    // a, b read; a served; c read (b goes: a was used since); a served; b read again.
    expect(reads.user).toBe(4)
    expect(caches.sizes().timezones).toBe(2)
  })

  it('bounds free time in bytes and statuses in rows, all users together; 0 turns a cache off', async () => {
    const { caches, reads, data } = setUp({ timezoneUsers: 0, freeTimeBytes: 200, suggestionStateRows: 3 })
    data.statuses = [
      { contactId: 'x', status: 'DISMISSED', slotStart: null, slotEnd: null, updatedAt: T0, snoozedUntil: null },
      { contactId: 'y', status: 'DISMISSED', slotStart: null, slotEnd: null, updatedAt: T0, snoozedUntil: null },
    ]
    // A week of evenings is 5 or 6 stretches (96 bytes) plus 64: one user fits in 200 bytes, not two.
    await caches.defaultSlots('a', T0, 'Europe/Berlin')
    await caches.defaultSlots('b', T0, 'Europe/Berlin')
    await caches.defaultSlots('a', T0, 'Europe/Berlin')
    expect(reads.calendarEvent).toBe(3)
    expect(caches.sizes().freeTime).toBe(1)
    await caches.suggestionState('a', T0)
    await caches.suggestionState('b', T0)
    expect(caches.sizes().statuses).toBe(1)
    await caches.userTimezone('a')
    await caches.userTimezone('a')
    expect(reads.user).toBe(2)
    expect(caches.sizes().timezones).toBe(0)
  })

  it('drops the entries of a user on a change, and of everyone when notices may have been lost', async () => {
    const versions = new ChangeVersions()
    const cache = new UserCache<{ value: number }>(versions, { max: 10 })
    await cache.get('a', async () => ({ value: 1 }))
    await cache.get('b', async () => ({ value: 2 }))
    versions.bump('a')
    expect(cache.size).toBe(1)
    versions.bumpAll()
    expect(cache.size).toBe(0)
  })
})

describe('change versions', () => {
  it('change on every bump, and never come back to a version a user had before a change, even once forgotten', () => {
    const versions = new ChangeVersions(2)
    const before = versions.current('a')
    versions.bump('a')
    const afterChange = versions.current('a')
    expect(afterChange).not.toBe(before)
    // 'a' is pushed out of the two users kept, then read again: never the version it had before its change.
    versions.bump('b')
    versions.bump('c')
    const again = versions.current('a')
    expect(again).not.toBe(before)
    expect(again).toBeGreaterThanOrEqual(afterChange)
    // While nothing changes, reads agree.
    expect(versions.current('a')).toBe(again)
  })
})
