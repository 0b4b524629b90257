import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  generateContactChunks,
  generateGroups,
  generateUser,
  type ContactsSpec,
  type SeedContact,
} from '../../src/seed/generate.ts'
import { benchUserEmail, DEMO_CONTACTS, DEMO_EMAIL, seedBenchUsers, seedDemoData } from '../../src/seed/seed.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()
const NOW = new Date('2026-11-25T12:00:00.000Z')

/** What the generator made for a bench user: the rows the database must hold. */
function expectedBenchContacts(seed: number, email: string, count: number) {
  const user = generateUser({ seed, email, name: '', timezone: 'Europe/Berlin', now: NOW })
  const groups = generateGroups({ seed, userId: user.id, now: NOW })
  const spec: ContactsSpec = { seed, userId: user.id, count, groupIds: groups.map((group) => group.id), now: NOW }
  const contacts = [...generateContactChunks(spec)].flat()
  return { userId: user.id, groups, contacts }
}

/** The stored group ids of a user's contacts, by contact id; fails unless every id is one of the user's groups. */
async function storedGroupIds(db: TestDatabase, userId: string): Promise<Map<string, string[]>> {
  const groups = new Set((await db.prisma.group.findMany({ where: { userId }, select: { id: true } })).map((group) => group.id))
  const rows = await db.prisma.contact.findMany({ where: { userId }, select: { id: true, groupIds: true } })
  for (const row of rows) {
    expect(new Set(row.groupIds).size).toBe(row.groupIds.length)
    for (const groupId of row.groupIds) expect(groups.has(groupId)).toBe(true)
  }
  return new Map(rows.map((row) => [row.id, row.groupIds]))
}

const groupIdsOf = (contacts: readonly SeedContact[]) => new Map(contacts.map((contact) => [contact.id, contact.groupIds]))

describe.each(kinds)('seeding on %s', (kind) => {
  // Tests of PostgreSQL-only paths are not registered at all on PGlite (nothing shows as skipped).
  const itOnPostgres: typeof it = kind === 'postgres' ? it : ((() => {}) as unknown as typeof it)
  let db: TestDatabase

  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(() => db?.destroy())

  it('seeds the demo user once, and the second time does nothing', async () => {
    const first = await seedDemoData(db, { now: NOW })
    expect(first).toMatchObject({ created: true, contacts: DEMO_CONTACTS })
    const user = await db.prisma.user.findUniqueOrThrow({
      where: { email: DEMO_EMAIL },
      include: { _count: { select: { contacts: true, groups: true, availability: true, calendarEvents: true } } },
    })
    expect(user).toMatchObject({ id: first.userId, name: 'Demo User', timezone: 'Europe/Berlin' })
    expect(user._count.contacts).toBe(2000)
    expect(user._count.groups).toBeGreaterThanOrEqual(5)
    expect(user._count.availability).toBe(7)
    expect(user._count.calendarEvents).toBeGreaterThanOrEqual(10)
    const grouped = [...(await storedGroupIds(db, first.userId)).values()]
    expect(grouped).toHaveLength(2000)
    expect(grouped.every((groupIds) => groupIds.length <= 3)).toBe(true)
    expect(grouped.flat().length).toBeGreaterThan(1000)

    const availability = await db.prisma.availability.findMany({ where: { userId: first.userId }, orderBy: { weekday: 'asc' } })
    expect(availability.map(({ weekday, startMinute, endMinute }) => [weekday, startMinute, endMinute])).toContainEqual([1, 18 * 60, 21 * 60])
    expect(availability.map(({ weekday, startMinute, endMinute }) => [weekday, startMinute, endMinute])).toContainEqual([6, 10 * 60, 16 * 60])
    const events = await db.prisma.calendarEvent.findMany({ where: { userId: first.userId } })
    for (const event of events) {
      expect(event.startsAt.getTime()).toBeGreaterThanOrEqual(NOW.getTime())
      expect(event.endsAt.getTime()).toBeLessThanOrEqual(NOW.getTime() + 7 * 86_400_000)
    }

    const second = await seedDemoData(db, { now: new Date(NOW.getTime() + 3_600_000), seed: 99 })
    expect(second).toEqual({ userId: first.userId, created: false, contacts: 0 })
    expect(await db.prisma.contact.count({ where: { userId: first.userId } })).toBe(2000)
    expect(await db.prisma.user.count({ where: { email: DEMO_EMAIL } })).toBe(1)
    // The quota counters (src/quotas.ts) match the rows the bulk writers put in around the API.
    const owner = await db.prisma.user.findUniqueOrThrow({ where: { id: first.userId } })
    expect([owner.contactCount, owner.groupCount, owner.calendarEventCount]).toEqual([
      2000,
      await db.prisma.group.count({ where: { userId: first.userId } }),
      events.length,
    ])
  })

  it('seeds bench users with their contacts and groups, and skips them the second time', async () => {
    const progress: [number, number][] = []
    const result = await seedBenchUsers(db, {
      users: 2,
      contacts: 3000,
      seed: 5,
      now: NOW,
      emailPrefix: 'bench-test',
      onProgress: (done, total) => progress.push([done, total]),
    })
    expect(result.userIds).toHaveLength(2)
    expect(result).toMatchObject({ created: 2, contacts: 6000 })
    expect(progress.at(0)).toEqual([0, 6000])
    expect(progress.at(-1)).toEqual([6000, 6000])
    for (const [index, userId] of result.userIds.entries()) {
      const user = await db.prisma.user.findUniqueOrThrow({ where: { id: userId } })
      expect(user.email).toBe(benchUserEmail(index + 1, 'bench-test'))
      expect(await db.prisma.contact.count({ where: { userId } })).toBe(3000)
      const expected = expectedBenchContacts(5, user.email, 3000)
      expect(userId).toBe(expected.userId)
      const groups = await db.prisma.group.findMany({ where: { userId }, orderBy: { name: 'asc' } })
      expect(groups.map((group) => group.id).sort()).toEqual(expected.groups.map((group) => group.id).sort())
      expect(await storedGroupIds(db, userId)).toEqual(groupIdsOf(expected.contacts))
    }

    const again = await seedBenchUsers(db, { users: 3, contacts: 100, seed: 5, now: NOW, emailPrefix: 'bench-test' })
    expect(again.userIds.slice(0, 2)).toEqual(result.userIds)
    expect(again).toMatchObject({ created: 1, contacts: 100 })
    expect(await db.prisma.contact.count({ where: { userId: result.userIds[0] } })).toBe(3000)
  })

  it('stores exactly the generated values (read back through Prisma)', async () => {
    const email = benchUserEmail(1, 'bench-test')
    const expected = expectedBenchContacts(5, email, 3000)
    const stored = await db.prisma.contact.findMany({
      where: { userId: expected.userId },
      orderBy: { id: 'asc' },
    })
    expect(stored).toHaveLength(expected.contacts.length)
    // The generated notes include newlines, tabs, quotes and backslashes: COPY escaping must round-trip them.
    expect(expected.contacts.some((contact) => contact.customNotes?.includes('\\'))).toBe(true)
    expect(expected.contacts.some((contact) => contact.customNotes?.includes('\n'))).toBe(true)
    expect(expected.contacts.some((contact) => contact.groupIds.length > 1)).toBe(true)
    const byId = new Map(stored.map((row) => [row.id, row]))
    for (const contact of expected.contacts) {
      const row = byId.get(contact.id)
      expect(row).toBeDefined()
      if (!row) continue
      // groupIds included: the same ids in the same order.
      expect(row).toEqual({
        ...contact,
        accountId: null,
        remoteHref: null,
        remoteEtag: null,
        remoteCard: null,
        remoteDirty: [],
        remoteDeletedAt: null,
        lastSyncedAt: null,
        circleConfidence: null,
        aiSuggestedCircle: null,
        externalId: null,
        birthday: null,
        anniversary: null,
        // The seed writes no group default: every frequency is the contact's own.
        frequencyFromGroup: false,
        importHash: null,
      })
    }
  })

  it('leaves nothing behind when a bulk load fails', async () => {
    const email = benchUserEmail(1, 'bench-broken')
    const expected = expectedBenchContacts(6, email, 2500)
    // Another user already owns the id of the 1,800th contact: the load hits a primary-key conflict mid-way.
    const blocker = await db.prisma.user.create({ data: { email: 'blocker@example.com' } })
    const clash = expected.contacts[1799] as SeedContact
    await db.prisma.contact.create({ data: { id: clash.id, userId: blocker.id, name: 'Clash', nextDueAt: NOW } })
    await expect(seedBenchUsers(db, { users: 1, contacts: 2500, seed: 6, now: NOW, emailPrefix: 'bench-broken' })).rejects.toThrow()
    expect(await db.prisma.user.count({ where: { email } })).toBe(0)
    expect(await db.prisma.contact.count({ where: { userId: expected.userId } })).toBe(0)
    expect(await db.prisma.group.count({ where: { userId: expected.userId } })).toBe(0)
  })

  itOnPostgres('loads a big user over parallel connections, and undoes a failed part', async () => {
    const result = await seedBenchUsers(db, { users: 1, contacts: 25_000, seed: 8, now: NOW, emailPrefix: 'bench-parallel' })
    expect(result).toMatchObject({ created: 1, contacts: 25_000 })
    const userId = result.userIds[0] as string
    const expected = expectedBenchContacts(8, benchUserEmail(1, 'bench-parallel'), 25_000)
    expect(userId).toBe(expected.userId)
    const ids = await db.query<{ id: string }>(`SELECT id FROM "Contact" WHERE "userId" = $1 ORDER BY id`, [userId])
    expect(ids.map((row) => row.id)).toEqual(expected.contacts.map((contact) => contact.id))
    expect(await storedGroupIds(db, userId)).toEqual(groupIdsOf(expected.contacts))

    const brokenEmail = benchUserEmail(1, 'bench-parallel-broken')
    const broken = expectedBenchContacts(9, brokenEmail, 25_000)
    const clash = broken.contacts[24_000] as SeedContact // in the second part
    await db.prisma.contact.create({ data: { id: clash.id, userId, name: 'Clash', nextDueAt: NOW } })
    await expect(
      seedBenchUsers(db, { users: 1, contacts: 25_000, seed: 9, now: NOW, emailPrefix: 'bench-parallel-broken' }),
    ).rejects.toThrow()
    expect(await db.prisma.user.count({ where: { email: brokenEmail } })).toBe(0)
    expect(await db.prisma.contact.count({ where: { userId: broken.userId } })).toBe(0)
  })

  itOnPostgres('creates the demo user once when two seeders race', async () => {
    const other = await openTestDatabase('postgres')
    try {
      const results = await Promise.all([seedDemoData(other, { now: NOW, contacts: 500 }), seedDemoData(other, { now: NOW, contacts: 500 })])
      expect(results.map((result) => result.created).sort()).toEqual([false, true])
      expect(results[0]?.userId).toBe(results[1]?.userId)
      expect(await other.prisma.contact.count()).toBe(500)
    } finally {
      await other.destroy()
    }
  })
})
