/**
 * Issue 12, export then import on a real server with the real formats: user A's varied contacts
 * (several e-mails and phones, the three named socials and others, location, time zone, notes,
 * birthdays with and without a year, groups and tags) go out through `GET /export/contacts.vcf`
 * and `.csv`, come in as another user through `POST /import/contacts`, and every field is compared.
 * Importing the same file again changes nothing (created 0, all unchanged).
 *
 * Known limits (src/exports, notes of the exports part), asserted as they are:
 * - the export writes groups ∪ tags as CATEGORIES / Labels, and the import makes each label both a
 *   group and a tag: a contact whose groups and tags differ comes back with the union in both;
 * - `archived` is not exported: an archived contact comes back unarchived;
 * - circle, frequency and interactions are not exported (not compared here).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import { emailKey } from '../../src/contacts/match-keys.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const IMPORT_FIELDS = 'id status format total done created updated unchanged rejected error'

describe.each(kinds)('import ∘ export round trip on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let users = 0
  let alice: { id: string; token: string }

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `roundtrip${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }

  async function finished(token: string, id: string) {
    let row: Record<string, any> | undefined
    await vi.waitFor(
      async () => {
        const result = await server.query<{ import: Record<string, any> }>(`query($id: ID!) { import(id: $id) { ${IMPORT_FIELDS} } }`, { id }, token)
        row = result.data?.import
        expect(['SUCCEEDED', 'FAILED']).toContain(row?.status)
      },
      { timeout: 30_000, interval: 50 },
    )
    return row!
  }

  async function importFile(token: string, body: string, format: 'vcard' | 'csv' | 'ics') {
    const path = format === 'ics' ? '/import/calendar' : `/import/contacts?format=${format}`
    const type = { vcard: 'text/vcard', csv: 'text/csv', ics: 'text/calendar' }[format]
    const response = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    })
    expect(response.status).toBe(202)
    const { id } = (await response.json()) as { id: string }
    return finished(token, id)
  }

  async function exportFile(token: string, path: string) {
    const response = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    return response.text()
  }

  /** A user's contacts by name, with group names instead of ids, in the shape compared. */
  async function snapshot(userId: string) {
    const groups = new Map((await db.prisma.group.findMany({ where: { userId } })).map((group) => [group.id, group.name]))
    const contacts = await db.prisma.contact.findMany({ where: { userId }, orderBy: { name: 'asc' } })
    return contacts.map((c) => ({
      name: c.name,
      emails: c.emails,
      phones: c.phones,
      linkedIn: c.linkedIn,
      instagram: c.instagram,
      xHandle: c.xHandle,
      otherSocialMedia: c.otherSocialMedia ?? null,
      location: c.location,
      timezone: c.timezone,
      customNotes: c.customNotes,
      birthday: c.birthday,
      anniversary: c.anniversary,
      groups: c.groupIds.map((id) => groups.get(id)).sort(),
      tags: [...c.tags].sort(),
      archived: c.archived,
      externalId: c.externalId,
    }))
  }

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
    origin = new URL(server.url).origin
    alice = await newUser()
    const [friends, work] = await Promise.all(['Friends', 'Work'].map((name) => db.prisma.group.create({ data: { userId: alice.id, name } })))
    const createdAt = new Date('2026-01-01T00:00:00Z')
    const base = { userId: alice.id, createdAt, nextDueAt: computeNextDueAt({ frequencyPreference: null, dunbarCircle: null, lastContactDate: null, createdAt }) }
    await db.prisma.contact.createMany({
      data: [
        {
          ...base,
          name: 'Ada Lovelace-Example',
          email: 'ada@example.com',
          emails: ['ada@example.com', 'Ada.Work@example.org'],
          phone: '+1 202 555 0100',
          phones: ['+1 202 555 0100', '+44 20 7946 0958'],
          linkedIn: 'https://www.linkedin.com/in/ada-example',
          instagram: 'https://instagram.com/ada.example',
          xHandle: 'https://x.com/adaexample',
          otherSocialMedia: { mastodon: 'https://mastodon.example/@ada', github: 'https://github.com/ada-example' },
          location: 'Lisbon, Portugal',
          timezone: 'Europe/Lisbon',
          customNotes: 'Met at the conference; likes "tea", commas, and\nline breaks, ünïcödé ✓',
          birthday: '1990-07-14',
          anniversary: '2015-09-12',
          tags: ['Friends'],
          groupIds: [friends!.id],
          externalId: 'uid-ada-roundtrip',
        },
        {
          ...base,
          name: 'Grace Example',
          email: 'grace@example.com',
          emails: ['grace@example.com'],
          birthday: '--03-09',
          anniversary: '--11-02',
          timezone: 'America/New_York',
          // Written as text in the CSV ('=...: no formula for a spreadsheet), read back as it was.
          customNotes: '=SUM(A1:A2) is how she signs',
          instagram: '@grace.example',
        },
        // Groups and tags that differ, archived: the known limits.
        { ...base, name: 'Alan Example', email: 'alan@example.com', emails: ['alan@example.com'], tags: ['mentor'], groupIds: [work!.id], archived: true, location: 'Manchester' },
      ],
    })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  for (const [format, path] of [
    ['vcard', '/export/contacts.vcf'],
    ['csv', '/export/contacts.csv'],
  ] as const) {
    it(`${path} imported by another user gives the same contacts, and again changes nothing`, async () => {
      const bob = await newUser()
      const file = await exportFile(alice.token, path)
      const first = await importFile(bob.token, file, format)
      expect(first).toMatchObject({ status: 'SUCCEEDED', total: 3, created: 3, updated: 0, rejected: 0, error: null })

      const before = await snapshot(alice.id)
      const after = await snapshot(bob.id)
      expect(after.map((c) => c.name)).toEqual(before.map((c) => c.name))
      for (const [i, original] of before.entries()) {
        const copy = after[i]!
        const { groups, tags, archived: _archived, externalId, ...fields } = original
        // Limit: the Google CSV carries no anniversary (vCard does: ANNIVERSARY).
        const expected = format === 'csv' ? { ...fields, anniversary: null } : fields
        expect({ ...copy, groups: undefined, tags: undefined, archived: undefined, externalId: undefined }).toEqual({ ...expected, groups: undefined, tags: undefined, archived: undefined, externalId: undefined })
        // Limit: groups ∪ tags come back as both the groups and the tags (the same when they were equal).
        const union = [...new Set([...groups, ...tags])].sort()
        expect(copy.groups).toEqual(union)
        expect(copy.tags).toEqual(union)
        // Limit: archived is not exported.
        expect(copy.archived).toBe(false)
        // The identity: the UID written is externalId ?? id, read back as externalId (CSV: Custom Field "UID").
        expect(copy.externalId).toBe(externalId ?? (await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id, name: original.name } })).id)
      }
      expect(before.find((c) => c.name === 'Ada Lovelace-Example')!.groups).toEqual(['Friends'])
      expect(after.find((c) => c.name === 'Alan Example')).toMatchObject({ groups: ['Work', 'mentor'], tags: ['Work', 'mentor'], archived: false })

      // The same file again: nothing created, nothing written.
      const second = await importFile(bob.token, file, format)
      expect(second).toMatchObject({ status: 'SUCCEEDED', total: 3, created: 0, updated: 0, unchanged: 3, rejected: 0 })
      expect(await snapshot(bob.id)).toEqual(after)
    })

    it(`${path} imported again by its own user changes nothing: no contact doubled, none overwritten by another that shares its e-mail`, async () => {
      const carol = await newUser()
      const createdAt = new Date('2026-01-01T00:00:00Z')
      const base = { userId: carol.id, createdAt, nextDueAt: computeNextDueAt({ frequencyPreference: null, dunbarCircle: null, lastContactDate: null, createdAt }) }
      await db.prisma.contact.createMany({
        data: [
          // Nothing to match on but the UID the export writes (the contact's id).
          { ...base, name: 'No Reach Example', location: 'Nowhere' },
          // Two contacts with one e-mail: each card's UID finds its own contact, not the first with the e-mail.
          // (matchKeys as the domain writes keep them.)
          { ...base, name: 'Twin One', email: 'twin@example.com', emails: ['twin@example.com'], matchKeys: [emailKey('twin@example.com')], location: 'New York' },
          { ...base, name: 'Twin Two', email: 'twin@example.com', emails: ['twin@example.com'], matchKeys: [emailKey('twin@example.com')], location: 'Singapore', linkedIn: 'https://www.linkedin.com/in/twin-two' },
        ],
      })
      const before = await snapshot(carol.id)
      const file = await exportFile(carol.token, path)
      expect(await importFile(carol.token, file, format)).toMatchObject({ status: 'SUCCEEDED', total: 3, created: 0, updated: 0, unchanged: 3, rejected: 0 })
      expect(await snapshot(carol.id)).toEqual(before)
    })
  }

  it('/export/calendar.ics imported again by its own user changes nothing: imported events, a recurring series, API events and an accepted suggestion are not doubled', async () => {
    const erin = await newUser()
    const day = (offset: number, hour: number) => new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + offset * 86_400_000 + hour * 3_600_000)
    const stamp = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, '')
    const source = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//test//roundtrip//EN',
      ...['BEGIN:VEVENT', 'UID:single-1@elsewhere.example', `DTSTART:${stamp(day(2, 9))}`, `DTEND:${stamp(day(2, 10))}`, 'SUMMARY:Dentist', 'END:VEVENT'],
      // No SUMMARY: exported as "Busy".
      ...['BEGIN:VEVENT', 'UID:untitled-1', `DTSTART:${stamp(day(3, 9))}`, `DTEND:${stamp(day(3, 10))}`, 'END:VEVENT'],
      // A daily series: stored as its occurrences within the horizon, exported as one VEVENT each.
      ...['BEGIN:VEVENT', 'UID:standup@elsewhere.example', `DTSTART:${stamp(day(-3, 8))}`, `DTEND:${stamp(day(-3, 8.25))}`, 'RRULE:FREQ=DAILY', 'SUMMARY:Standup', 'END:VEVENT'],
      'END:VCALENDAR',
      '',
    ].join('\r\n')
    expect(await importFile(erin.token, source, 'ics')).toMatchObject({ status: 'SUCCEEDED', created: 3, rejected: 0 })
    // Added through the API (no uid), one untitled; and an accepted suggestion.
    await db.prisma.calendarEvent.createMany({
      data: [
        { userId: erin.id, title: 'Gym', startsAt: day(1, 18), endsAt: day(1, 19) },
        { userId: erin.id, title: null, startsAt: day(4, 12), endsAt: day(4, 13) },
      ],
    })
    const contact = await db.prisma.contact.create({ data: { userId: erin.id, name: 'Friend Example', nextDueAt: new Date('2026-01-01T00:00:00Z') } })
    await db.prisma.suggestion.create({
      data: { id: `sg_${erin.id}_accepted`, userId: erin.id, contactId: contact.id, priority: 1, reason: 'overdue', status: 'ACCEPTED', slotStart: day(5, 12), slotEnd: day(5, 13) },
    })
    const rows = () => db.prisma.calendarEvent.findMany({ where: { userId: erin.id }, orderBy: { id: 'asc' }, select: { id: true, uid: true, title: true, startsAt: true, endsAt: true } })
    const series = () => db.prisma.calendarSeries.findMany({ where: { userId: erin.id }, select: { id: true, uid: true, ics: true, expandedUntil: true } })
    const before = await rows()
    const seriesBefore = await series()
    const occurrences = before.filter((row) => row.uid === 'standup@elsewhere.example').length
    expect(occurrences).toBeGreaterThan(5)
    expect(seriesBefore).toHaveLength(1)

    const file = await exportFile(erin.token, '/export/calendar.ics')
    const vevents = before.length + 1
    expect(file.match(/BEGIN:VEVENT/g)).toHaveLength(vevents)
    // Occurrences do not carry the series' UID (they would replace one another); single imported events keep theirs.
    expect(file).not.toContain('UID:standup@elsewhere.example')
    expect(file).toContain('UID:single-1@elsewhere.example')
    for (let round = 1; round <= 2; round++) {
      expect(await importFile(erin.token, file, 'ics')).toMatchObject({ status: 'SUCCEEDED', total: vevents, created: 0, updated: 0, unchanged: vevents, rejected: 0, error: null })
      expect(await rows()).toEqual(before)
      expect(await series()).toEqual(seriesBefore)
    }
    // The source file again: the series and single events are unchanged too.
    expect(await importFile(erin.token, source, 'ics')).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0, unchanged: 3, rejected: 0 })
    expect(await rows()).toEqual(before)
  })
})
