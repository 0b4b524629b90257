import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFirstMinimalPages } from '../../src/contacts/keyset/class-first-pages.ts'
import { streamMinimalContacts, streamWithCursor } from '../../src/contacts/keyset/contact-streams.ts'
import type { ContactOrderKey, SortDirection } from '../../src/cursors/contact-cursor.ts'
import { ClientError } from '../../src/errors.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { streamContacts } from '../helpers/contact-streams.ts'
import { countPreparedReads, settled } from '../helpers/counted-reads.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()
/** The keys of a minimal row: what scoring, the reason, slot fitting and the GraphQL minimal fields read. */
const MINIMAL_KEYS = ['dunbarCircle', 'frequencyPreference', 'id', 'lastContactDate', 'name', 'nextDueAt', 'timezone']
const ORDERS: [ContactOrderKey, SortDirection][] = (['id', 'name', 'lastContactDate', 'nextDueAt'] as const).flatMap(
  (key) => (['asc', 'desc'] as const).map((direction): [ContactOrderKey, SortDirection] => [key, direction]),
)

describe.each(kinds)('keyset streams on %s', (kind) => {
  let db: TestDatabase
  let alice: FixtureUser
  let bob: FixtureUser
  let findManyCalls = 0
  /** contact.findMany calls issued and not yet settled. */
  let findManyRunning = 0
  /** The counts as settled() reads them. */
  const findManyCount = () => ({
    get issued() {
      return findManyCalls
    },
    get running() {
      return findManyRunning
    },
  })
  /** The client with contact.findMany counted when issued (and tracked until it settles): the repository's only query. */
  let counted: PrismaClient

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 240)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 60)
    counted = new Proxy(db.prisma, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver)
        if (property !== 'contact') return value
        return new Proxy(value as object, {
          get(model, method, modelReceiver) {
            const fn = Reflect.get(model, method, modelReceiver)
            if (method !== 'findMany') return fn
            return (...args: unknown[]) => {
              findManyCalls++
              findManyRunning++
              return Promise.resolve((fn as (...a: unknown[]) => unknown).apply(model, args)).finally(() => findManyRunning--)
            }
          },
        })
      },
    })
  })
  afterAll(() => db?.destroy())

  /** The naive oracle: PostgreSQL's own ORDER BY over every row. */
  async function expectedIds(userId: string, key: ContactOrderKey, direction: SortDirection, archived = false) {
    const nulls = direction === 'asc' ? 'NULLS LAST' : 'NULLS FIRST'
    const order = key === 'id' ? `id ${direction}` : `"${key}" ${direction} ${nulls}, id ${direction}`
    const rows = await db.query<{ id: string }>(
      `SELECT id FROM "Contact" WHERE "userId" = $1 ${archived ? '' : 'AND NOT archived'} ORDER BY ${order}`,
      [userId],
    )
    return rows.map((row) => row.id)
  }

  async function walk(options: Parameters<typeof streamWithCursor>[1]) {
    const ids: string[] = []
    const cursors: string[] = []
    for await (const page of streamWithCursor(db.prisma, options, { id: true })) {
      expect(page.rows.length).toBeGreaterThan(0)
      ids.push(...page.rows.map((row) => row.id))
      cursors.push(page.endCursor as string)
    }
    return { ids, cursors }
  }

  it.each(ORDERS)('walks every non-archived row once, in order, by %s %s', async (key, direction) => {
    const expected = await expectedIds(alice.id, key, direction)
    expect(expected.length).toBeGreaterThan(150)
    const { ids } = await walk({ userId: alice.id, orderBy: key, direction, pageSize: 7 })
    expect(ids).toEqual(expected)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it.each(ORDERS)('resumes exactly after a cursor, by %s %s', async (key, direction) => {
    const expected = await expectedIds(alice.id, key, direction)
    const first = await walk({ userId: alice.id, orderBy: key, direction, pageSize: 13 })
    for (const pageIndex of [0, 4, 9]) {
      const after = first.cursors[pageIndex]
      const rest = await walk({ userId: alice.id, orderBy: key, direction, pageSize: 50, after })
      expect(rest.ids).toEqual(expected.slice((pageIndex + 1) * 13))
    }
  })

  it('walks a long run of equal keys in one index range per page, with no repeat', async () => {
    const user = await db.prisma.user.create({ data: { email: `ties-${kind}@example.com` } })
    const nextDueAt = new Date('2026-01-01T00:00:00.000Z')
    await db.prisma.contact.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({ userId: user.id, name: `Same ${i % 2}`, nextDueAt })),
    })
    for (const [key, direction] of [['nextDueAt', 'asc'], ['nextDueAt', 'desc'], ['name', 'asc']] as const) {
      findManyCalls = 0
      const ids: string[] = []
      for await (const page of streamWithCursor(counted, { userId: user.id, orderBy: key, direction, pageSize: 25 }, { id: true })) {
        ids.push(...page.rows.map((row) => row.id))
      }
      expect(ids).toEqual(await expectedIds(user.id, key, direction))
      // 12 pages: the first is one range; inside the run each page reads the ties, at most one more range at its end.
      expect(findManyCalls).toBeLessThanOrEqual(14)
    }
  })

  it('walks minimal rows across long runs of equal nextDueAt with one prepared statement per page, of all classes or one', async () => {
    const user = await db.prisma.user.create({ data: { email: `minimal-ties-${kind}@example.com` } })
    const runs = [new Date('2026-01-01T00:00:00.000Z'), new Date('2026-01-01T00:00:00.001Z')]
    await db.prisma.contact.createMany({
      data: Array.from({ length: 300 }, (_, i) => ({
        userId: user.id,
        name: `Same ${i}`,
        nextDueAt: runs[i % 2]!,
        dunbarCircle: i % 3 === 0 ? null : ('CLOSE' as const),
        frequencyPreference: i % 5 === 0 ? null : ('MONTHLY' as const),
        archived: i % 7 === 0,
      })),
    })
    for (const where of [undefined, { dunbarCircle: 'CLOSE' as const, frequencyPreference: 'MONTHLY' as const }, { dunbarCircle: null, frequencyPreference: null }]) {
      const { source, reads } = countPreparedReads(db)
      const ids: string[] = []
      let pages = 0
      for await (const page of streamMinimalContacts(source, { userId: user.id, where, pageSize: 25 })) {
        ids.push(...page.rows.map((row) => row.id))
        pages++
      }
      const expected = await db.query<{ id: string }>(
        `SELECT id FROM "Contact" WHERE "userId" = $1 AND NOT archived
           ${where ? `AND "dunbarCircle" IS NOT DISTINCT FROM $2 AND "frequencyPreference" IS NOT DISTINCT FROM $3` : ''}
         ORDER BY "nextDueAt", id`,
        where ? [user.id, where.dunbarCircle, where.frequencyPreference] : [user.id],
      )
      expect(ids, JSON.stringify(where)).toEqual(expected.map((row) => row.id))
      expect(ids.length).toBeGreaterThan(10)
      expect(reads.issued).toBe(pages)
    }
  })

  it('reads the first page of every class in one statement, and each class walk goes on from it with no repeat or gap', async () => {
    // Contacts spread over the classes, and a class with a run of equal nextDueAt (ties across the page end).
    const carol = await createUserWithContacts(db.prisma, `carol-${kind}@example.com`, 150)
    const nextDueAt = new Date('2026-02-01T00:00:00.000Z')
    await db.prisma.contact.createMany({
      data: Array.from({ length: 9 }, (_, i) => ({ userId: carol.id, name: `Tie ${i}`, nextDueAt, dunbarCircle: 'INNER' as const, frequencyPreference: 'WEEKLY' as const })),
    })
    const classes = (['INNER', 'CASUAL', null] as const).flatMap((dunbarCircle) =>
      (['WEEKLY', 'YEARLY', null] as const).map((frequencyPreference) => ({ dunbarCircle, frequencyPreference })),
    )
    const firsts = await readFirstMinimalPages(db, carol.id, classes, 3)
    for (const [index, where] of classes.entries()) {
      const whole: string[] = []
      for await (const page of streamMinimalContacts(db, { userId: carol.id, where, pageSize: 1000 })) {
        whole.push(...page.rows.map((row) => row.id))
      }
      const { rows, after } = firsts[index]!
      const walked = rows.map((row) => row.id)
      if (after) {
        for await (const page of streamMinimalContacts(db, { userId: carol.id, where, pageSize: 2, after })) {
          walked.push(...page.rows.map((row) => row.id))
        }
      }
      expect(walked, JSON.stringify(where)).toEqual(whole)
      expect(after === undefined, JSON.stringify(where)).toBe(whole.length <= 3)
    }
    expect(firsts.some((page) => page.rows.length === 3 && page.after)).toBe(true)
    // Minimal rows, the same shape as the walk's.
    const [first] = firsts.find((page) => page.rows.length > 0)!.rows
    expect(Object.keys(first!).sort()).toEqual(MINIMAL_KEYS)
    expect(first!.nextDueAt).toBeInstanceOf(Date)
  })

  it('includes archived contacts only when asked', async () => {
    const { ids } = await walk({ userId: alice.id, orderBy: 'name', includeArchived: true, pageSize: 100 })
    expect(ids).toEqual(await expectedIds(alice.id, 'name', 'asc', true))
    expect(ids.length).toBe(240)
  })

  it("never returns another user's contacts", async () => {
    const bobIds = new Set(await expectedIds(bob.id, 'id', 'asc', true))
    const { ids } = await walk({ userId: alice.id, includeArchived: true, pageSize: 1000 })
    expect(ids.some((id) => bobIds.has(id))).toBe(false)
  })

  it('survives inserts and deletes during the walk without duplicates', async () => {
    const user = await createUserWithContacts(db.prisma, `churn-${kind}@example.com`, 120)
    const before = await expectedIds(user.id, 'nextDueAt', 'asc')
    const seen: string[] = []
    const deleted = new Set(before.slice(60, 70))
    let pages = 0
    for await (const page of streamMinimalContacts(db, { userId: user.id, pageSize: 20 })) {
      seen.push(...page.rows.map((row) => row.id))
      if (++pages === 2) {
        await db.prisma.contact.deleteMany({ where: { id: { in: [...deleted] } } })
        // New rows on both sides of the cursor.
        await db.prisma.contact.createMany({
          data: [new Date('2000-01-01T00:00:00Z'), new Date('2099-01-01T00:00:00Z')].map((nextDueAt, i) => ({
            userId: user.id,
            name: `inserted ${i}`,
            nextDueAt,
          })),
        })
      }
    }
    expect(new Set(seen).size).toBe(seen.length)
    const survivors = before.filter((id) => !deleted.has(id))
    expect(seen.filter((id) => before.includes(id))).toEqual(survivors)
    const after = await expectedIds(user.id, 'nextDueAt', 'asc')
    expect(seen).toContain(after.at(-1)) // the row inserted past the cursor is read; the one before it is not
    expect(seen).not.toContain(after[0])
  })

  it('reads no further page once the consumer breaks or returns', async () => {
    // `break` and `return()` resolve once the stream's generator has finished (its `finally` ran). Reads are
    // counted when issued, so one started ahead (a prefetch) or on the way out is counted at once, none may still
    // be running, and none may follow once the code left behind settled (settled(): no fixed pause).
    const { source, reads } = countPreparedReads(db)
    for await (const page of streamMinimalContacts(source, { userId: alice.id, pageSize: 10 })) {
      expect(page.rows).toHaveLength(10)
      break
    }
    expect(reads).toEqual({ issued: 1, running: 0 })
    await settled(reads)
    expect(reads.issued).toBe(1)

    findManyCalls = 0
    const stream = streamContacts(counted, { userId: alice.id, pageSize: 10 })
    await stream.next()
    await stream.next()
    await stream.return(undefined)
    expect({ findManyCalls, findManyRunning }).toEqual({ findManyCalls: 2, findManyRunning: 0 })
    await settled(findManyCount())
    expect((await stream.next()).done).toBe(true)
    expect(findManyCalls).toBe(2)
  })

  it('stops at an aborted signal before reading the next page', async () => {
    const controller = new AbortController()
    const { source, reads } = countPreparedReads(db)
    const stream = streamMinimalContacts(source, { userId: alice.id, pageSize: 10, signal: controller.signal })
    await stream.next()
    controller.abort()
    await expect(stream.next()).rejects.toThrow()
    expect(reads.issued).toBe(1)
  })

  it('yields only the minimal columns, with the values Prisma reads', async () => {
    const stream = streamMinimalContacts(db, { userId: alice.id, pageSize: 1000 })
    const { value } = await stream.next()
    await stream.return(undefined)
    const rows = value!.rows
    expect(Object.keys(rows[0]!).sort()).toEqual(MINIMAL_KEYS)
    // Prisma as the reference for the known-shape conversion: dates to the millisecond, enums, NULLs.
    const stored = await db.prisma.contact.findMany({
      where: { id: { in: rows.map((r) => r.id) } },
      select: { id: true, name: true, lastContactDate: true, frequencyPreference: true, dunbarCircle: true, nextDueAt: true, timezone: true },
      orderBy: [{ nextDueAt: 'asc' }, { id: 'asc' }],
    })
    expect(rows).toEqual(stored)
    expect(rows.length).toBeGreaterThan(150)
    expect(rows.some((r) => r.lastContactDate === null) && rows.some((r) => r.lastContactDate !== null)).toBe(true)

    // Milliseconds, before 1970, far ahead: the epoch milliseconds the statement returns are exact.
    const user = await db.prisma.user.create({ data: { email: `minimal-dates-${kind}@example.com` } })
    const dates = ['1969-07-20T20:17:40.123Z', '2038-01-19T03:14:07.999Z', '2026-11-25T12:00:00.001Z', '9999-12-31T23:59:59.999Z'].map((iso) => new Date(iso))
    await db.prisma.contact.createMany({
      data: dates.map((date, i) => ({ userId: user.id, name: `d${i}`, nextDueAt: date, lastContactDate: dates[(i + 1) % dates.length]!, timezone: 'Asia/Kolkata' })),
    })
    const { value: page } = await streamMinimalContacts(db, { userId: user.id, pageSize: 10 }).next()
    expect(page!.rows).toEqual(
      await db.prisma.contact.findMany({
        where: { userId: user.id },
        select: { id: true, name: true, lastContactDate: true, frequencyPreference: true, dunbarCircle: true, nextDueAt: true, timezone: true },
        orderBy: [{ nextDueAt: 'asc' }, { id: 'asc' }],
      }),
    )
    expect(page!.rows.map((r) => r.nextDueAt.toISOString())).toEqual([...dates].sort((a, b) => a.getTime() - b.getTime()).map((d) => d.toISOString()))
  })

  it('streams full rows with streamContacts', async () => {
    const { value } = await streamContacts(db.prisma, { userId: alice.id, pageSize: 5 }).next()
    expect(value!.rows[0]).toMatchObject({ userId: alice.id, tags: expect.any(Array), createdAt: expect.any(Date) })
  })

  it.each([0, 1001, 2.5, -1])('rejects page size %s with BAD_USER_INPUT', async (pageSize) => {
    const stream = streamMinimalContacts(db, { userId: alice.id, pageSize })
    await expect(stream.next()).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'pageSize' } })
  })

  it('rejects a malformed cursor and a cursor of another ordering with BAD_USER_INPUT', async () => {
    const { cursors } = await walk({ userId: alice.id, orderBy: 'name', pageSize: 100 })
    for (const [after, orderBy] of [
      ['not-a-cursor', 'name'],
      [Buffer.from('["name","asc",1,2]').toString('base64url'), 'name'],
      [cursors[0], 'nextDueAt'],
    ] as const) {
      const stream = streamWithCursor(db.prisma, { userId: alice.id, orderBy, after }, { id: true })
      const error = await stream.next().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ClientError)
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT' })
    }
  })
})
