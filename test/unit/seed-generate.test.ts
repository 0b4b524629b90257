import { describe, expect, it } from 'vitest'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import { DAY_MS } from '../../src/time.ts'
import { contactTable, copyLine, formatTimestamp } from '../../src/seed/bulk-insert.ts'
import {
  CONTACT_BLOCK_SIZE,
  contactRange,
  dunbarBounds,
  generateAvailability,
  generateCalendarEvents,
  generateContactChunks,
  generateGroups,
  generateUser,
  Random,
  SEED_TIME_ZONES,
  zonedTimeToUtc,
  type ContactsSpec,
  type SeedContact,
} from '../../src/seed/generate.ts'

const NOW = new Date('2026-11-25T12:00:00.000Z')
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function specFor(seed: number, count: number, extra: Partial<ContactsSpec> = {}): ContactsSpec {
  const user = generateUser({ seed, email: 'someone@example.com', name: 'Someone', timezone: 'Europe/Berlin', now: NOW })
  const groups = generateGroups({ seed, userId: user.id, now: NOW })
  return { seed, userId: user.id, count, groupIds: groups.map((group) => group.id), now: NOW, ...extra }
}

function collect(spec: ContactsSpec): SeedContact[] {
  return [...generateContactChunks(spec)].flat()
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1
  return counts
}

describe('seed data generator', () => {
  const spec = specFor(1, 5000)
  const contacts = collect(spec)

  it('is deterministic for a seed and differs for another seed', () => {
    expect(collect(specFor(1, 5000))).toEqual(contacts)
    const other = collect(specFor(2, 5000))
    expect(other.map((contact) => contact.id)).not.toEqual(contacts.map((contact) => contact.id))
    expect(other.map((contact) => contact.name)).not.toEqual(contacts.map((contact) => contact.name))
    expect(other.map((contact) => contact.groupIds.length)).not.toEqual(contacts.map((contact) => contact.groupIds.length))
    expect(generateUser({ seed: 1, email: 'a@example.com', name: 'A', timezone: 'UTC', now: NOW }).id).not.toBe(
      generateUser({ seed: 1, email: 'b@example.com', name: 'B', timezone: 'UTC', now: NOW }).id,
    )
  })

  it('yields chunks of one block, and parts that add up to the whole', () => {
    const sizes = [...generateContactChunks(spec)].map((chunk) => chunk.length)
    expect(sizes).toEqual([1000, 1000, 1000, 1000, 1000])
    for (const of of [2, 3, 7]) {
      const parts = Array.from({ length: of }, (_, index) => collect({ ...spec, part: { index, of } }))
      expect(parts.flat()).toEqual(contacts)
    }
    expect(contactRange({ count: 2500, part: { index: 1, of: 2 } })).toEqual({ start: CONTACT_BLOCK_SIZE, end: 2500 })
    expect(() => contactRange({ count: 10, part: { index: 2, of: 2 } })).toThrow(RangeError)
  })

  it('makes unique UUID v4 ids that ascend with the contact index', () => {
    const ids = contacts.map((contact) => contact.id)
    for (const id of ids) expect(id).toMatch(UUID_V4)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    const random = new Random(9, 'uuids')
    for (let i = 0; i < 1000; i++) expect(random.uuid()).toMatch(UUID_V4)
    expect(spec.userId).toMatch(UUID_V4)
    for (const id of spec.groupIds) expect(id).toMatch(UUID_V4)
  })

  it('assigns Dunbar circles in proportion: 5 / 15 / 50 / 150 / 500 cumulative, then none', () => {
    expect(countBy(contacts, (contact) => String(contact.dunbarCircle))).toEqual({
      INNER: 5,
      CLOSE: 10,
      ACTIVE: 35,
      CASUAL: 100,
      ACQUAINTANCE: 350,
      null: 4500,
    })
    expect(contacts.slice(0, 5).every((contact) => contact.dunbarCircle === 'INNER')).toBe(true)
    expect(contacts[499]?.dunbarCircle).toBe('ACQUAINTANCE')
    expect(contacts[500]?.dunbarCircle).toBeNull()
    // Below 500 contacts the layers keep their proportions.
    expect(dunbarBounds(100)).toEqual([1, 3, 10, 30, 100])
    expect(countBy(collect(specFor(1, 100)), (contact) => String(contact.dunbarCircle))).toEqual({
      INNER: 1,
      CLOSE: 2,
      ACTIVE: 7,
      CASUAL: 20,
      ACQUAINTANCE: 70,
    })
    expect(dunbarBounds(2000)).toEqual([5, 15, 50, 150, 500])
  })

  it('stores nextDueAt = computeNextDueAt(...) and consistent dates', () => {
    const user = generateUser({ seed: 1, email: 'someone@example.com', name: 'Someone', timezone: 'Europe/Berlin', now: NOW })
    expect(user.id).toBe(spec.userId)
    for (const contact of contacts) {
      expect(contact.createdAt.getTime()).toBeGreaterThan(user.createdAt.getTime())
      expect(contact.nextDueAt).toEqual(computeNextDueAt(contact))
      expect(contact.createdAt.getTime()).toBeLessThan(NOW.getTime())
      if (contact.lastContactDate) {
        expect(contact.createdAt.getTime()).toBeLessThan(contact.lastContactDate.getTime())
        expect(contact.lastContactDate.getTime()).toBeLessThan(NOW.getTime())
        expect(NOW.getTime() - contact.lastContactDate.getTime()).toBeLessThanOrEqual(731 * DAY_MS)
      }
      expect(contact.updatedAt.getTime()).toBeGreaterThanOrEqual(contact.createdAt.getTime())
    }
  })

  it('spreads contact history, cadences and attributes realistically', () => {
    const never = contacts.filter((contact) => contact.lastContactDate === null).length
    const overdue = contacts.filter((contact) => contact.nextDueAt < NOW).length
    const longOverdue = contacts.filter((contact) => contact.nextDueAt.getTime() < NOW.getTime() - 180 * DAY_MS).length
    const recent = contacts.filter((contact) => contact.lastContactDate && NOW.getTime() - contact.lastContactDate.getTime() < 14 * DAY_MS).length
    const notYetDue = contacts.filter((contact) => contact.nextDueAt >= NOW).length
    expect(never).toBeGreaterThan(0.1 * contacts.length)
    expect(never).toBeLessThan(0.4 * contacts.length)
    for (const share of [overdue, longOverdue, recent, notYetDue]) expect(share).toBeGreaterThan(0)
    const archived = contacts.filter((contact) => contact.archived).length
    expect(archived / contacts.length).toBeGreaterThan(0.01)
    expect(archived / contacts.length).toBeLessThan(0.035)
    const frequencies = countBy(contacts, (contact) => String(contact.frequencyPreference))
    for (const value of ['null', 'FLEXIBLE', 'WEEKLY', 'MONTHLY', 'QUARTERLY', 'YEARLY']) expect(frequencies[value]).toBeGreaterThan(0)
    const share = (predicate: (contact: SeedContact) => boolean) => contacts.filter(predicate).length / contacts.length
    expect(share((contact) => contact.email !== null)).toBeGreaterThan(0.7)
    expect(share((contact) => contact.linkedIn !== null)).toBeGreaterThan(0.2)
    expect(share((contact) => contact.instagram !== null)).toBeGreaterThan(0.1)
    expect(share((contact) => contact.xHandle !== null)).toBeGreaterThan(0.05)
    expect(share((contact) => contact.otherSocialMedia !== null)).toBeGreaterThan(0.02)
    expect(share((contact) => contact.customNotes !== null)).toBeGreaterThan(0.1)
    expect(share((contact) => contact.tags.length > 0)).toBeGreaterThan(0.4)
    expect(share((contact) => contact.timezone === null)).toBeGreaterThan(0.02)
    for (const contact of contacts) expect(new Set(contact.tags).size).toBe(contact.tags.length)
  })

  it('uses valid IANA time zones, including half-hour and DST zones', () => {
    const zones = new Set(contacts.map((contact) => contact.timezone).filter((zone) => zone !== null))
    for (const zone of [...zones, ...SEED_TIME_ZONES]) {
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone })).not.toThrow()
    }
    for (const zone of ['Asia/Kolkata', 'Europe/Berlin', 'America/New_York', 'Australia/Adelaide']) expect(zones).toContain(zone)
    for (const contact of contacts) expect(contact.timezone === null).toBe(contact.location === null)
  })

  it('puts each contact into 0 to 3 distinct groups of the user', () => {
    const groupIds = new Set(spec.groupIds)
    for (const contact of contacts) {
      expect(contact.groupIds.length).toBeLessThanOrEqual(3)
      expect(new Set(contact.groupIds).size).toBe(contact.groupIds.length)
      for (const groupId of contact.groupIds) expect(groupIds.has(groupId)).toBe(true)
    }
    // About 45% none, 35% one, 15% two, 5% three.
    const perCount = countBy(contacts, (contact) => String(contact.groupIds.length))
    const share = (count: number) => (perCount[count] ?? 0) / contacts.length
    expect(share(0)).toBeGreaterThan(0.4)
    expect(share(0)).toBeLessThan(0.5)
    expect(share(1)).toBeGreaterThan(0.3)
    expect(share(1)).toBeLessThan(0.4)
    expect(share(2)).toBeGreaterThan(0.12)
    expect(share(2)).toBeLessThan(0.18)
    expect(share(3)).toBeGreaterThan(0.03)
    expect(share(3)).toBeLessThan(0.07)
    // Every group is used; a user without groups gets contacts without groups.
    expect(new Set(contacts.flatMap((contact) => contact.groupIds)).size).toBe(spec.groupIds.length)
    expect(collect(specFor(1, 500, { groupIds: [] })).every((contact) => contact.groupIds.length === 0)).toBe(true)
  })
})

describe('availability and calendar', () => {
  const userId = generateUser({ seed: 3, email: 'demo@example.com', name: 'Demo', timezone: 'Europe/Berlin', now: NOW }).id

  it('has weekday evenings and weekend days', () => {
    const windows = generateAvailability({ seed: 3, userId }).map(({ weekday, startMinute, endMinute }) => [weekday, startMinute, endMinute])
    expect(windows).toEqual([
      [1, 1080, 1260],
      [2, 1080, 1260],
      [3, 1080, 1260],
      [4, 1080, 1260],
      [5, 1080, 1260],
      [6, 600, 960],
      [7, 600, 960],
    ])
  })

  it('fills the 7 days after now with a few events a day, deterministically', () => {
    const events = generateCalendarEvents({ seed: 3, userId, timezone: 'Europe/Berlin', now: NOW })
    expect(events).toEqual(generateCalendarEvents({ seed: 3, userId, timezone: 'Europe/Berlin', now: NOW }))
    expect(events.length).toBeGreaterThanOrEqual(10)
    expect(events.length).toBeLessThanOrEqual(32)
    for (const event of events) {
      expect(event.startsAt.getTime()).toBeGreaterThanOrEqual(NOW.getTime())
      expect(event.endsAt.getTime()).toBeLessThanOrEqual(NOW.getTime() + 7 * DAY_MS)
      expect(event.endsAt.getTime()).toBeGreaterThan(event.startsAt.getTime())
    }
    const days = new Set(events.map((event) => event.startsAt.toISOString().slice(0, 10)))
    expect(days.size).toBeGreaterThanOrEqual(6)
  })

  it('converts local wall-clock time to UTC across DST and half-hour zones', () => {
    expect(zonedTimeToUtc(2026, 1, 15, 18 * 60, 'Europe/Berlin').toISOString()).toBe('2026-01-15T17:00:00.000Z')
    expect(zonedTimeToUtc(2026, 7, 15, 18 * 60, 'Europe/Berlin').toISOString()).toBe('2026-07-15T16:00:00.000Z')
    expect(zonedTimeToUtc(2026, 7, 15, 18 * 60, 'Asia/Kolkata').toISOString()).toBe('2026-07-15T12:30:00.000Z')
    expect(zonedTimeToUtc(2026, 1, 15, 9 * 60, 'Australia/Adelaide').toISOString()).toBe('2026-01-14T22:30:00.000Z')
    expect(zonedTimeToUtc(2026, 3, 8, 12 * 60, 'America/New_York').toISOString()).toBe('2026-03-08T16:00:00.000Z')
  })
})

describe('COPY text format', () => {
  it('formats timestamps as UTC with milliseconds', () => {
    for (const iso of ['2026-11-25T06:19:47.123Z', '2000-02-29T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.001Z']) {
      expect(formatTimestamp(new Date(iso))).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`)
    }
  })

  it('escapes text, quotes array elements, writes JSON and NULL', () => {
    const contact = collect(specFor(1, 1))[0] as SeedContact
    const tricky: SeedContact = {
      ...contact,
      name: 'Back\\slash\tTab',
      customNotes: 'line one\nline two\r\n"quoted"',
      tags: ['a "quote"', 'back\\slash', 'comma, space', 'curly {}'],
      otherSocialMedia: { mastodon: '@x@mastodon.social', note: 'tab\there' },
      email: null,
      groupIds: [],
    }
    const fields = copyLine(contactTable, tricky).slice(0, -1).split('\t')
    expect(fields).toHaveLength(contactTable.columns.length)
    const at = (name: string) => fields[contactTable.columns.findIndex((column) => column.name === name)]
    expect(at('name')).toBe('Back\\\\slash\\tTab')
    expect(at('customNotes')).toBe('line one\\nline two\\r\\n"quoted"')
    expect(at('tags')).toBe('{"a \\\\"quote\\\\"","back\\\\\\\\slash","comma, space","curly {}"}')
    expect(at('otherSocialMedia')).toBe('{"mastodon":"@x@mastodon.social","note":"tab\\\\there"}')
    expect(at('email')).toBe('\\N')
    expect(at('archived')).toBe(contact.archived ? 't' : 'f')
    expect(at('groupIds')).toBe('{}')
    const grouped = copyLine(contactTable, { ...contact, groupIds: [contact.id, contact.userId] }).slice(0, -1).split('\t')
    expect(grouped[contactTable.columns.findIndex((column) => column.name === 'groupIds')]).toBe(`{${contact.id},${contact.userId}}`)
  })
})
