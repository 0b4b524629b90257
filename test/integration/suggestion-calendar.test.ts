/**
 * Issue 15, item 4: accepted suggestions written to the calendar an account chose, by the account's
 * sync, against a real Radicale: an accepted suggestion with a future slot becomes an event there;
 * once dismissed, the next sync removes it; events this server did not write are never touched; a
 * calendar that is not the account's is refused.
 */
import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAccount, setAccountWriteCalendar } from '../../src/accounts/accounts.ts'
import { runAccountSync } from '../../src/sync/run-sync.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'
import { listingSyncers, testDavServices } from '../helpers/test-dav.ts'

const enabled = radicaleAvailable()
const silent = pino({ level: 'silent' })

describe.skipIf(!enabled)('accepted suggestions in the chosen calendar', () => {
  let radicale: Radicale
  let db: TestDatabase
  let calendar: string
  const dav = testDavServices({ allowPrivate: true })
  beforeAll(async () => {
    radicale = await startRadicale({ alice: 'alice-password' })
    calendar = await radicale.createCalendar('alice', 'plans', 'Plans')
    db = await openTestDatabase('pglite')
  }, 60_000)
  afterAll(async () => {
    await db?.destroy()
    await radicale?.stop()
  })

  const members = async () => {
    const listing = await (await fetch(calendar, { method: 'PROPFIND', headers: { depth: '1', authorization: radicale.authorization('alice') } })).text()
    return [...listing.matchAll(/<href>([^<]+\.ics)<\/href>/g)].map((match) => decodeURIComponent(match[1]!.split('/').pop()!))
  }

  it('writes an accepted suggestion as an event, removes it once dismissed, and leaves other events alone', async () => {
    const user = await db.prisma.user.create({ data: { email: `plans-${randomUUID()}@example.com` } })
    const deps = { prisma: db.prisma, dav, announce: () => {}, logger: silent, maxAccountsPerUser: 10 }
    const account = await connectAccount(deps, user.id, { kind: 'CALDAV', url: calendar, username: 'alice', password: 'alice-password' })
    await expect(setAccountWriteCalendar(deps, user.id, account.id, `${radicale.url}/alice/other/`)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
    await setAccountWriteCalendar(deps, user.id, account.id, calendar)
    await radicale.put('alice', `${calendar}mine.ics`, 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:mine\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261210T100000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n', 'text/calendar')

    const now = new Date('2026-12-01T08:00:00Z')
    const contact = await db.prisma.contact.create({ data: { userId: user.id, name: 'Cleo Planned', nextDueAt: now } })
    const id = `sg_${randomUUID()}_1`
    await db.prisma.suggestion.create({
      data: { id, userId: user.id, contactId: contact.id, slotStart: new Date('2026-12-02T17:00:00Z'), slotEnd: new Date('2026-12-02T17:30:00Z'), priority: 1, reason: 'due', status: 'ACCEPTED' },
    })
    const sync = () => runAccountSync({ prisma: db.prisma, dav, announce: () => {}, logger: silent, now: () => now, horizonMs: 7 * 86_400_000 }, account.id, { owner: 'test', syncers: listingSyncers })

    expect(await sync()).toMatchObject({ outcome: 'OK' })
    expect((await members()).sort()).toEqual([`${id}.ics`, 'mine.ics'].sort())
    const event = await (await fetch(`${calendar}${encodeURIComponent(id)}.ics`, { headers: { authorization: radicale.authorization('alice') } })).text()
    expect(event).toContain('Cleo Planned')
    expect(event).toContain('DTSTART:20261202T170000Z')
    // Again: nothing new to write.
    expect(await sync()).toMatchObject({ outcome: 'OK', changed: 0 })

    await db.prisma.suggestion.update({ where: { id }, data: { status: 'DISMISSED' } })
    expect(await sync()).toMatchObject({ outcome: 'OK', changed: 1 })
    expect(await members()).toEqual(['mine.ics'])
  })
})
