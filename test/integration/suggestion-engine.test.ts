import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import { DAY_MS } from '../../src/time.ts'
import type { DunbarCircle, FrequencyPreference } from '../../src/generated/prisma/enums.ts'
import type { ContactRowSource } from '../../src/contacts/keyset/minimal-rows.ts'
import { createSuggestionEngine, type Suggestion, type SuggestionEvent } from '../../src/suggestions/generator.ts'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { loadFreeSlots, userTimezone } from '../../src/calendar/load-free-slots.ts'
import { MemoryCircuitBreaker } from '../../src/memory/circuit-breaker.ts'
import { MemoryMonitor } from '../../src/memory/memory-monitor.ts'
import { createMetrics } from '../../src/metrics/metrics.ts'
import { rankNaively } from '../../src/suggestions/ranking.ts'
import { setSuggestionStatus } from '../../src/suggestions/suggestion-status.ts'
import { logInteraction } from '../../src/contacts/contact-writes.ts'
import { announceNothing } from '../helpers/fixtures.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { countPreparedReads, settled } from '../helpers/counted-reads.ts'

const kinds = await availableDatabaseKinds()
const NOW = new Date('2026-11-25T12:00:00.000Z')
const CIRCLES: (DunbarCircle | null)[] = ['INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE', null]
const FREQUENCIES: (FrequencyPreference | null)[] = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE', null]

const contactArbitrary = fc.record({
  circle: fc.constantFrom(...CIRCLES),
  frequency: fc.constantFrom(...FREQUENCIES),
  // A few distinct values, so equal nextDueAt (ties) and equal priorities across classes happen.
  lastContactDaysAgo: fc.option(fc.constantFrom(0, 1, 7, 14, 30, 45, 90, 200, 400, 800), { nil: null }),
  createdDaysAgo: fc.constantFrom(0, 10, 500),
  archived: fc.boolean(),
})

type GeneratedContact = {
  circle: DunbarCircle | null
  frequency: FrequencyPreference | null
  lastContactDaysAgo: number | null
  createdDaysAgo: number
  archived: boolean
}

async function collect(events: AsyncGenerator<SuggestionEvent>) {
  const batches: Extract<SuggestionEvent, { kind: 'batch' }>[] = []
  let complete: Extract<SuggestionEvent, { kind: 'complete' }> | undefined
  for await (const event of events) {
    if (event.kind === 'batch') batches.push(event)
    if (event.kind === 'complete') complete = event
  }
  return { batches, complete, suggestions: batches.flatMap((batch) => batch.suggestions) }
}

describe.each(kinds)('suggestion engine on %s', (kind) => {
  let db: TestDatabase
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(() => db?.destroy())

  function engine(contactRows: ContactRowSource = db) {
    return createSuggestionEngine({
      prisma: db.prisma,
      contactRows,
      now: () => NOW,
      defaultSlots: async () => [],
      userTimezone: async () => 'UTC',
    })
  }

  async function userWith(contacts: GeneratedContact[]) {
    const user = await db.prisma.user.create({ data: { email: `u${++users}@example.com` } })
    await db.prisma.contact.createMany({
      data: contacts.map((c, i) => {
        const createdAt = new Date(NOW.getTime() - c.createdDaysAgo * DAY_MS)
        const lastContactDate = c.lastContactDaysAgo === null ? null : new Date(NOW.getTime() - c.lastContactDaysAgo * DAY_MS)
        return {
          userId: user.id,
          name: `c${i}`,
          dunbarCircle: c.circle,
          frequencyPreference: c.frequency,
          lastContactDate,
          createdAt,
          archived: c.archived,
          nextDueAt: computeNextDueAt({ lastContactDate, createdAt, frequencyPreference: c.frequency, dunbarCircle: c.circle }),
        }
      }),
    })
    const rows = await db.prisma.contact.findMany({ where: { userId: user.id, archived: false } })
    return { userId: user.id, rows }
  }

  it('equals the naive full scan, in order, for every input (oracle property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(contactArbitrary, { maxLength: 120 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 25 }),
        async (contacts, k, batchSize) => {
          const { userId, rows } = await userWith(contacts)
          const expected = rankNaively(rows, NOW, k)
          const { suggestions, complete } = await collect(
            engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: k, batchSize, slots: [] }),
          )
          expect(suggestions.map((s) => s.contact.id)).toEqual(expected.map((c) => c.id))
          expect(suggestions.map((s) => s.priority)).toEqual(expected.map((c) => c.priority))
          expect(complete?.total).toBe(expected.length)
        },
      ),
      { numRuns: kind === 'pglite' ? 40 : 25 },
    )
  })

  it('equals the naive full scan with few, long classes and tiny pages (refills across classes)', async () => {
    const crowded = fc.record({
      circle: fc.constantFrom<DunbarCircle | null>('INNER', 'CASUAL'),
      frequency: fc.constantFrom<FrequencyPreference | null>('WEEKLY', null),
      lastContactDaysAgo: fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }),
      createdDaysAgo: fc.constantFrom(0, 10, 500),
      archived: fc.constant(false),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(crowded, { maxLength: 100 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), async (contacts, k, batchSize) => {
        const { userId, rows } = await userWith(contacts)
        const { suggestions } = await collect(
          engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: k, batchSize, slots: [] }),
        )
        expect(suggestions.map((s) => s.contact.id)).toEqual(rankNaively(rows, NOW, k).map((c) => c.id))
      }),
      { numRuns: kind === 'pglite' ? 30 : 15 },
    )
  })

  it('resumes from any batch cursor with no duplicate and no gap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(contactArbitrary, { minLength: 20, maxLength: 80 }), fc.nat(), async (contacts, pick) => {
        const { userId } = await userWith(contacts)
        const full = await collect(engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 40, batchSize: 3, slots: [] }))
        if (full.batches.length < 2) return
        const index = pick % (full.batches.length - 1)
        const delivered = full.batches.slice(0, index + 1).flatMap((batch) => batch.suggestions)
        const rest = await collect(
          engine().generateTimeboundSuggestionsStreaming(userId, {
            maxSuggestions: 40,
            batchSize: 3,
            slots: [],
            resumeFrom: full.batches[index]!.cursor,
          }),
        )
        expect([...delivered, ...rest.suggestions].map((s) => s.id)).toEqual(full.suggestions.map((s) => s.id))
      }),
      { numRuns: 10 },
    )
  })

  it('emits batches before the walk ends and stops early once K are final', async () => {
    const { userId, rows } = await userWith(
      Array.from({ length: 600 }, (_, i) => ({
        circle: CIRCLES[i % 6]!,
        frequency: FREQUENCIES[i % 8]!,
        lastContactDaysAgo: (i * 7) % 400,
        createdDaysAgo: 500,
        archived: false,
      })),
    )
    const { batches, complete } = await collect(
      engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 10, batchSize: 5, slots: [] }),
    )
    expect(batches.length).toBeGreaterThan(1)
    expect(complete!.total).toBe(10)
    expect(complete!.scanned).toBeLessThan(rows.length / 2)
  })

  it('reads nothing more once the consumer leaves', async () => {
    const { userId } = await userWith(
      Array.from({ length: 300 }, (_, i) => ({ circle: 'INNER' as const, frequency: 'WEEKLY' as const, lastContactDaysAgo: i % 50, createdDaysAgo: 500, archived: false })),
    )
    const { source, reads } = countPreparedReads(db)
    const stream = engine(source).generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 200, batchSize: 5, slots: [] })
    await stream.next()
    const issued = reads.issued
    expect(issued).toBeGreaterThan(0)
    // return() resolves once the walk's `finally` has closed every class stream. Reads count when issued, so
    // leaving may neither issue one nor leave one running, and none may follow once the code left behind settled.
    await stream.return(undefined)
    expect(reads).toEqual({ issued, running: 0 })
    await settled(reads)
    expect((await stream.next()).done).toBe(true)
    expect(reads).toEqual({ issued, running: 0 })
  })

  it('skips dismissed and snoozed contacts, keeps accepted slots taken, and gives stable ids', async () => {
    const { userId, rows } = await userWith(
      Array.from({ length: 12 }, (_, i) => ({ circle: 'CLOSE' as const, frequency: 'MONTHLY' as const, lastContactDaysAgo: 30 + i * 10, createdDaysAgo: 500, archived: false })),
    )
    const ranked = rankNaively(rows, NOW, 12)
    const slots = Array.from({ length: 4 }, (_, i) => ({
      start: new Date(Date.UTC(2026, 10, 26 + i, 12)),
      end: new Date(Date.UTC(2026, 10, 26 + i, 12, 30)),
    }))
    const first = await collect(engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 5, slots }))
    const again = await collect(engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 5, slots }))
    expect(again.suggestions.map((s) => s.id)).toEqual(first.suggestions.map((s) => s.id))
    expect(first.suggestions[0]!.id).toBe(suggestionId(ranked[0]!.id, slots[0]!))
    expect(first.suggestions.slice(0, 4).map((s) => s.slot?.start)).toEqual(slots.map((slot) => slot.start))
    expect(first.suggestions[4]!.slot).toBeNull() // four slots, capacity one each

    const [dismissed, snoozed, accepted] = ranked
    const base = (s: Suggestion) => ({ id: s.id, userId, contactId: s.contact.id, priority: s.priority, reason: s.reason })
    await db.prisma.suggestion.createMany({
      data: [
        { ...base(first.suggestions[0]!), status: 'DISMISSED' },
        { ...base(first.suggestions[1]!), status: 'SNOOZED', snoozedUntil: new Date(NOW.getTime() + DAY_MS) },
        { ...base(first.suggestions[2]!), status: 'ACCEPTED', slotStart: slots[0]!.start, slotEnd: slots[0]!.end },
      ],
    })
    const after = await collect(engine().generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 5, slots }))
    const ids = after.suggestions.map((s) => s.contact.id)
    expect(ids).not.toContain(dismissed!.id)
    expect(ids).not.toContain(snoozed!.id)
    expect(ids).not.toContain(accepted!.id)
    expect(ids).toEqual(ranked.slice(3, 8).map((c) => c.id))
    expect(after.suggestions.map((s) => s.slot?.start ?? null)).not.toContainEqual(slots[0]!.start)
  })

  it('records each generation in the metrics, also when the consumer leaves early', async () => {
    const { userId } = await userWith(
      Array.from({ length: 50 }, (_, i) => ({ circle: 'ACTIVE' as const, frequency: null, lastContactDaysAgo: i, createdDaysAgo: 500, archived: false })),
    )
    const metrics = createMetrics()
    const measured = createSuggestionEngine({
      prisma: db.prisma,
      contactRows: db,
      now: () => NOW,
      defaultSlots: async () => [],
      userTimezone: async () => 'UTC',
      monitor: new MemoryMonitor(),
      metrics,
    })
    const { complete } = await collect(measured.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 10, slots: [] }))
    const early = measured.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 10, batchSize: 2, slots: [] })
    await early.next()
    await early.return(undefined)
    const text = await metrics.registry.metrics()
    expect(text).toMatch(/^suggestion_generation_duration_seconds_count 2$/m)
    const processed = Number(/^suggestion_generation_contacts_processed_total (\d+)$/m.exec(text)?.[1])
    expect(processed).toBeGreaterThan(complete!.scanned)
  })

  it('throttles under memory pressure, and fails with a retryable MEMORY_PRESSURE carrying the cursor when it stays open', async () => {
    const { userId, rows } = await userWith(
      Array.from({ length: 200 }, (_, i) => ({ circle: 'CLOSE' as const, frequency: 'MONTHLY' as const, lastContactDaysAgo: i, createdDaysAgo: 500, archived: false })),
    )
    let heapUsed = 75 // of 100: throttle
    const guarded = createSuggestionEngine({
      prisma: db.prisma,
      contactRows: db,
      now: () => NOW,
      defaultSlots: async () => [],
      userTimezone: async () => 'UTC',
      breaker: new MemoryCircuitBreaker({ readHeap: () => ({ heapUsed, heapLimit: 100 }) }),
      throttleDelayMs: 1,
      openTimeoutMs: 50,
    })
    const throttled = await collect(guarded.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 30, batchSize: 8, slots: [] }))
    expect(throttled.suggestions.map((s) => s.contact.id)).toEqual(rankNaively(rows, NOW, 30).map((c) => c.id))

    const events: SuggestionEvent[] = []
    const stream = guarded.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 30, batchSize: 4, slots: [] })
    const error = await (async () => {
      try {
        for await (const event of stream) {
          events.push(event)
          if (event.kind === 'batch') heapUsed = 95 // open from now on
        }
      } catch (e) {
        return e
      }
    })()
    expect(events.some((e) => e.kind === 'throttled')).toBe(true)
    expect(error).toMatchObject({ code: 'MEMORY_PRESSURE', details: { retryable: true, resumeFrom: expect.any(String) } })
    heapUsed = 10
    const delivered = events.flatMap((e) => (e.kind === 'batch' ? e.suggestions : []))
    const rest = await collect(
      guarded.generateTimeboundSuggestionsStreaming(userId, {
        maxSuggestions: 30,
        batchSize: 4,
        slots: [],
        resumeFrom: (error as { details: { resumeFrom: string } }).details.resumeFrom,
      }),
    )
    expect([...delivered, ...rest.suggestions].map((s) => s.contact.id)).toEqual(rankNaively(rows, NOW, 30).map((c) => c.id))
  })

  it("fits suggestions into the user's availability minus calendar events by default", async () => {
    const { userId } = await userWith(
      Array.from({ length: 6 }, (_, i) => ({ circle: 'INNER' as const, frequency: 'WEEKLY' as const, lastContactDaysAgo: 10 + i, createdDaysAgo: 500, archived: false })),
    )
    await db.prisma.user.update({ where: { id: userId }, data: { timezone: 'Europe/Berlin' } })
    // Thursday 26 Nov, 18:00-20:00 Berlin (17:00-19:00Z); busy 17:00-18:00Z.
    await db.prisma.availability.create({ data: { userId, weekday: 4, startMinute: 18 * 60, endMinute: 20 * 60 } })
    await db.prisma.calendarEvent.create({ data: { userId, startsAt: new Date('2026-11-26T17:00:00Z'), endsAt: new Date('2026-11-26T18:00:00Z') } })
    const withCalendar = createSuggestionEngine({
      prisma: db.prisma,
      contactRows: db,
      now: () => NOW,
      defaultSlots: (user, now, timezone) => loadFreeSlots(db.prisma, user, now, 7, timezone),
      userTimezone: (user) => userTimezone(db.prisma, user),
    })
    const { suggestions } = await collect(withCalendar.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 3 }))
    expect(suggestions.map((s) => s.slot?.start.toISOString() ?? null)).toEqual(['2026-11-26T18:00:00.000Z', '2026-11-26T18:30:00.000Z', null])
  })

  it('rejects bad sizes and cursors with BAD_USER_INPUT', async () => {
    const { userId } = await userWith([])
    for (const options of [{ maxSuggestions: 0 }, { maxSuggestions: 501 }, { batchSize: 0 }, { batchSize: 1001 }, { resumeFrom: 'nope' }]) {
      const stream = engine().generateTimeboundSuggestionsStreaming(userId, { slots: [], ...options })
      await expect(stream.next()).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
    }
  })
})

/**
 * Issue 10, kinds 10 and 11: every exclusion ends (accepted, dismissed, snoozed:
 * see src/suggestions/suggestion-status.ts), and taken time is an interval. The
 * statuses are set through the same functions as the API, on an injected clock.
 */
describe.each(kinds)('suggestion statuses on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  const HORIZON_MS = 7 * DAY_MS
  const HOUR = 3_600_000
  const at = (ms: number) => new Date(NOW.getTime() + ms)

  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(() => db?.destroy())

  /** A user with `count` weekly INNER contacts, all overdue; returns their ids, the most urgent first. */
  async function weeklyUser(count = 3) {
    const user = await db.prisma.user.create({ data: { email: `status${++users}@example.com` } })
    const contacts = []
    for (let i = 0; i < count; i++) {
      const lastContactDate = new Date(NOW.getTime() - (20 - i) * DAY_MS)
      const fields = { lastContactDate, createdAt: new Date(NOW.getTime() - 400 * DAY_MS), frequencyPreference: 'WEEKLY' as const, dunbarCircle: 'INNER' as const }
      contacts.push(await db.prisma.contact.create({ data: { userId: user.id, name: `weekly${i}`, ...fields, nextDueAt: computeNextDueAt(fields) } }))
    }
    return { userId: user.id, contactIds: contacts.map((c) => c.id) }
  }

  /** The top 500 at `now`, fitted into `slots`. */
  async function walk(userId: string, now: Date, slots: { start: Date; end: Date }[] = []) {
    const engine = createSuggestionEngine({ prisma: db.prisma, contactRows: db, now: () => now, defaultSlots: async () => [], userTimezone: async () => 'UTC', dismissForMs: HORIZON_MS })
    return (await collect(engine.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: 500, slots }))).suggestions
  }
  const listed = async (userId: string, now: Date) => (await walk(userId, now)).map((s) => s.contact.id)

  it('suggests again a weekly contact whose slot-less suggestion was accepted and called the same day', async () => {
    const { userId, contactIds: [contactId] } = await weeklyUser(1)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, null), 'ACCEPTED', NOW)
    expect(await listed(userId, at(HOUR))).not.toContain(contactId)
    await logInteraction({ prisma: db.prisma, announce: announceNothing }, userId, contactId!, { kind: 'CALL' }, at(3 * HOUR))
    // The call ended the acceptance; a week after it the contact is due again, and 30 days later overdue.
    expect(await listed(userId, at(4 * HOUR))).toContain(contactId)
    expect(await listed(userId, at(30 * DAY_MS))).toContain(contactId)
  })

  it('ends a slot-less acceptance with no interaction at the horizon', async () => {
    const { userId, contactIds: [contactId] } = await weeklyUser(1)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, null), 'ACCEPTED', NOW)
    expect(await listed(userId, at(HORIZON_MS - 1))).not.toContain(contactId)
    expect(await listed(userId, at(HORIZON_MS + 1))).toContain(contactId)
  })

  it('ends an acceptance with a slot at the slot end, keeping the slot taken until then', async () => {
    const { userId, contactIds: [contactId, other] } = await weeklyUser(2)
    const slot = { start: at(2 * HOUR), end: at(2.5 * HOUR) }
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, slot), 'ACCEPTED', NOW)
    const before = await walk(userId, at(HOUR), [slot])
    expect(before.map((s) => s.contact.id)).not.toContain(contactId)
    expect(before.find((s) => s.contact.id === other)?.slot).toBeNull() // the only slot is promised
    expect(await listed(userId, at(2.5 * HOUR - 1))).not.toContain(contactId)
    expect(await listed(userId, at(2.5 * HOUR))).toContain(contactId)
  })

  it('ends an acceptance with a slot at the first interaction logged after it, freeing the slot', async () => {
    const { userId, contactIds: [contactId, other] } = await weeklyUser(2)
    const slot = { start: at(5 * HOUR), end: at(5.5 * HOUR) }
    // An interaction logged before the acceptance does not end it.
    await logInteraction({ prisma: db.prisma, announce: announceNothing }, userId, contactId!, { kind: 'MESSAGE', occurredAt: at(-HOUR) }, at(-HOUR))
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, slot), 'ACCEPTED', NOW)
    expect(await listed(userId, at(HOUR))).not.toContain(contactId)
    await logInteraction({ prisma: db.prisma, announce: announceNothing }, userId, contactId!, { kind: 'CALL' }, at(2 * HOUR))
    const after = await walk(userId, at(3 * HOUR), [slot])
    expect(after.map((s) => s.contact.id)).toContain(contactId)
    expect(after.find((s) => s.contact.id === other)?.slot).toEqual(slot)
  })

  it('ends a dismissal at the horizon', async () => {
    const { userId, contactIds: [contactId] } = await weeklyUser(1)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, null), 'DISMISSED', NOW)
    expect(await listed(userId, at(HORIZON_MS - 1))).not.toContain(contactId)
    expect(await listed(userId, at(HORIZON_MS + 1))).toContain(contactId)
  })

  it('ends a snooze at its date', async () => {
    const { userId, contactIds: [contactId] } = await weeklyUser(1)
    const until = at(2 * DAY_MS)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(contactId!, null), 'SNOOZED', NOW, until)
    expect(await listed(userId, at(2 * DAY_MS - 1))).not.toContain(contactId)
    expect(await listed(userId, at(2 * DAY_MS))).toContain(contactId)
  })

  it('does not offer a slot that overlaps an accepted one (10:15-10:45 takes 10:00-10:30 and 10:30-11:00)', async () => {
    const { userId, contactIds: [accepted, ...others] } = await weeklyUser(3)
    const day = new Date('2026-11-26T00:00:00.000Z').getTime()
    const clock = (h: number, m: number) => new Date(day + (h * 60 + m) * 60_000)
    await setSuggestionStatus({ prisma: db.prisma, announce: announceNothing }, userId, suggestionId(accepted!, { start: clock(10, 15), end: clock(10, 45) }), 'ACCEPTED', NOW)
    const slots = [
      { start: clock(10, 0), end: clock(10, 30) },
      { start: clock(10, 30), end: clock(11, 0) },
      { start: clock(11, 0), end: clock(11, 30) },
    ]
    const suggestions = await walk(userId, NOW, slots)
    expect(suggestions.map((s) => s.contact.id)).toEqual(others)
    expect(suggestions.map((s) => s.slot)).toEqual([slots[2], null])
  })
})
