/**
 * The CardDAV contacts sync (src/sync/contacts-sync.ts, write-back.ts) against a real Radicale, on PGlite and
 * PostgreSQL: a first sync of 2,000 cards; an edit, a delete and an add read incrementally (one REPORT and one
 * multiget); a refused sync token falls back to a full resync that changes nothing; delete and re-add archive
 * and restore (interactions kept, a user's own archive kept); a local edit written back with If-Match keeping
 * the card's other properties; a conflict (server wins, SyncConflict row); a local create PUT; dedupe with a
 * contact typed in by hand; the fields the user owns survive a remote edit; every column a card owns
 * (CARD_COLUMN_TYPES) is stored as the mapping gives it, on create and on update; a conflict resolved
 * LOCAL goes back to the server with If-Match, one resolved REMOTE leaves both sides as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { archiveContact, createContact, logInteraction, updateContact } from '../../src/contacts/contact-writes.ts'
import { createDavSession } from '../../src/dav/session.ts'
import { createLogger } from '../../src/logger.ts'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'
import { CARD_COLUMN_TYPES, cardColumns, mapCard } from '../../src/sync/card-contact.ts'
import { syncAddressBook, type ContactsSyncDeps } from '../../src/sync/contacts-sync.ts'
import { resolveSyncConflict } from '../../src/sync/sync-conflicts.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'

const kinds = await availableDatabaseKinds()
const withRadicale = radicaleAvailable()

const card = (uid: string, name: string, lines: string[] = []) =>
  ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, `N:${name.split(' ').slice(-1)[0]};${name.split(' ').slice(0, -1).join(' ')};;;`, ...lines, 'END:VCARD', ''].join('\r\n')
const VCARD = 'text/vcard; charset=utf-8'

describe.skipIf(!withRadicale).each(kinds)('contacts sync on %s', (kind) => {
  let db: TestDatabase
  let radicale: Radicale
  let books = 0
  beforeAll(async () => {
    ;[db, radicale] = await Promise.all([openTestDatabase(kind), startRadicale()])
  })
  afterAll(async () => {
    await Promise.all([db?.destroy(), radicale?.stop()])
  })

  /** A user with a CardDAV account and one enabled address book on Radicale, and a `sync` of it. */
  async function setup() {
    const n = ++books
    const user = await db.prisma.user.create({ data: { email: `sync${n}-${kind}@example.com` } })
    const bookUrl = await radicale.createAddressBook('alice', `book${n}`)
    const account = await db.prisma.account.create({ data: { userId: user.id, kind: 'CARDDAV', url: radicale.url, auth: 'BASIC', credentials: 'unused in this test' } })
    const collection = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: bookUrl, kind: 'ADDRESS_BOOK', enabled: true } })
    const announced: string[] = []
    const deps: ContactsSyncDeps = { prisma: db.prisma, announce: (_userId, what) => void announced.push(what), logger: createLogger('silent'), now: () => new Date() }
    const sync = async (overrides: Partial<ContactsSyncDeps> = {}) => {
      const row = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })
      const session = createDavSession({
        credentials: { kind: 'BASIC', username: 'alice', password: radicale.users.alice! },
        fetch: createOutboundFetch({ allowPrivate: true, timeoutMs: 60_000 }),
        // Basic auth: no OAuth client is used.
        oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
        now: () => new Date(),
      })
      return syncAddressBook({ ...deps, ...overrides }, { id: account.id, userId: user.id }, row, session)
    }
    const contacts = () => db.prisma.contact.findMany({ where: { userId: user.id }, orderBy: { name: 'asc' } })
    const byName = async (name: string) => db.prisma.contact.findFirstOrThrow({ where: { userId: user.id, name } })
    const get = async (href: string) => {
      const response = await fetch(new URL(href, radicale.url), { headers: { authorization: radicale.authorization('alice') } })
      return { status: response.status, etag: response.headers.get('etag'), text: await response.text() }
    }
    const writeDeps = { prisma: db.prisma, announce: () => {} }
    return { user, account, collection, bookUrl, sync, announced, contacts, byName, get, writeDeps }
  }

  it('syncs 2,000 cards, then reads only an edit, a delete and an add; a refused token resyncs without duplicates', { timeout: 300_000 }, async () => {
    const { user, collection, bookUrl, sync, announced, byName } = await setup()
    // One PUT of a multi-card file replaces the collection in Radicale (its members named after the UIDs).
    const many = Array.from({ length: 2000 }, (_, i) => card(`c${i}`, `Person ${String(i).padStart(4, '0')}`, [`EMAIL:p${i}@example.com`, `TEL:+1 555 ${String(i).padStart(4, '0')}`])).join('')
    await radicale.put('alice', bookUrl, many, VCARD)

    const first = await sync()
    expect(first).toMatchObject({ created: 2000, read: 2000, updated: 0, removed: 0, rejected: 0, fullResync: true })
    expect(first.syncToken).toBeTruthy()
    expect(announced).toEqual(['contact'])
    expect(await db.prisma.contact.count({ where: { userId: user.id, source: 'CARDDAV', accountId: collection.accountId, remoteEtag: { not: null } } })).toBe(2000)
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).contactCount).toBe(2000)
    const p7 = await byName('Person 0007')
    expect(p7).toMatchObject({ email: 'p7@example.com', phone: '+1 555 0007', remoteHref: `${new URL(bookUrl).pathname}c7.vcf` })
    expect(p7.remoteCard).toContain('UID:c7')

    // Nothing changed: one REPORT, nothing read or written.
    const idle = await sync()
    expect(idle).toMatchObject({ requests: 1, read: 0, created: 0, updated: 0, removed: 0, fullResync: false })
    expect(announced).toHaveLength(1)

    await radicale.put('alice', `${bookUrl}c7.vcf`, card('c7', 'Person Seven', ['EMAIL:seven@example.com']), VCARD)
    await radicale.remove('alice', `${bookUrl}c8.vcf`)
    await radicale.put('alice', `${bookUrl}new.vcf`, card('new', 'Newcomer Person', ['EMAIL:new@example.com']), VCARD)
    const incremental = await sync()
    expect(incremental).toMatchObject({ requests: 2, read: 2, created: 1, updated: 1, removed: 1, unchanged: 0, fullResync: false })
    expect(await byName('Person Seven')).toMatchObject({ id: p7.id, email: 'seven@example.com', emails: ['seven@example.com'], phone: null })
    expect(await byName('Person 0008')).toMatchObject({ archived: true, remoteDeletedAt: expect.any(Date) })
    expect(await byName('Newcomer Person')).toMatchObject({ source: 'CARDDAV', archived: false })
    expect(announced).toHaveLength(2)

    // A token the server refuses: every member listed and compared by ETag; nothing changes, nothing is duplicated
    // (but `lastSyncedAt`: the resync stamps each listed contact, and archives the unstamped ones as gone).
    const withoutSyncTime = ({ lastSyncedAt: _, ...rest }: { lastSyncedAt: Date | null }) => rest
    const before = (await db.prisma.contact.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } })).map(withoutSyncTime)
    const resyncStart = new Date()
    await db.prisma.accountCollection.update({ where: { id: collection.id }, data: { syncToken: 'http://radicale.org/ns/sync/garbage' } })
    const full = await sync()
    expect(full).toMatchObject({ fullResync: true, read: 0, created: 0, updated: 0, removed: 0, restored: 0, unchanged: 2000 })
    expect(full.syncToken).toBeTruthy()
    expect(full.syncToken).not.toBe('http://radicale.org/ns/sync/garbage')
    const after = await db.prisma.contact.findMany({ where: { userId: user.id }, orderBy: { id: 'asc' } })
    expect(after.map(withoutSyncTime)).toEqual(before)
    expect(after.filter((contact) => !contact.archived).every((contact) => contact.lastSyncedAt! >= resyncStart)).toBe(true)
    expect(announced).toHaveLength(2)
  })

  it('archives a contact whose card is deleted (interactions kept) and restores it when it comes back; a user archive stays', async () => {
    const { sync, bookUrl, byName, writeDeps, user } = await setup()
    const cards = { a: card('a', 'Ada Lovelace', ['EMAIL:ada@example.com']), b: card('b', 'Bob Builder'), c: card('c', 'Cy Twombly') }
    for (const [uid, text] of Object.entries(cards)) await radicale.put('alice', `${bookUrl}${uid}.vcf`, text, VCARD)
    expect(await sync()).toMatchObject({ created: 3 })
    const ada = await byName('Ada Lovelace')
    await logInteraction(writeDeps, user.id, ada.id, { kind: 'CALL', note: 'long call' }, new Date())
    await archiveContact(writeDeps, user.id, (await byName('Cy Twombly')).id, true)

    await radicale.remove('alice', `${bookUrl}a.vcf`)
    await radicale.remove('alice', `${bookUrl}c.vcf`)
    expect(await sync()).toMatchObject({ removed: 1 })
    expect(await byName('Ada Lovelace')).toMatchObject({ archived: true, remoteDeletedAt: expect.any(Date) })
    expect(await byName('Cy Twombly')).toMatchObject({ archived: true, remoteDeletedAt: null })
    expect(await db.prisma.interaction.count({ where: { contactId: ada.id } })).toBe(1)

    await radicale.put('alice', `${bookUrl}a.vcf`, cards.a, VCARD)
    await radicale.put('alice', `${bookUrl}c.vcf`, cards.c, VCARD)
    const back = await sync()
    expect(back).toMatchObject({ restored: 1, created: 0 })
    expect(await byName('Ada Lovelace')).toMatchObject({ id: ada.id, archived: false, remoteDeletedAt: null })
    expect(await byName('Cy Twombly')).toMatchObject({ archived: true })
    expect(await db.prisma.interaction.count({ where: { contactId: ada.id } })).toBe(1)
    expect(await db.prisma.contact.count({ where: { userId: user.id } })).toBe(3)
  })

  it('stores every column a card owns (CARD_COLUMN_TYPES) as the mapping gives it, when the card comes and when it changes', async () => {
    const { sync, bookUrl, byName } = await setup()
    const full = (version: number) =>
      card('every', `Eve Ry${version}`, [
        `EMAIL;TYPE=pref:eve${version}@example.com`,
        `EMAIL:eve${version}@work.example.com`,
        `TEL;TYPE=pref:+44 20 7946 000${version}`,
        `TEL:+1 212 555 010${version}`,
        `X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/eve${version}`,
        `X-INSTAGRAM:eve${version}`,
        `X-TWITTER:eve_${version}`,
        `URL:https://eve${version}.example.org/`,
        `ADR;TYPE=HOME:;;${version} Main St;Springfield;;;`,
        `TZ:${version === 1 ? 'Europe/Berlin' : 'America/New_York'}`,
        `BDAY:199${version}-02-03`,
        `X-ANNIVERSARY:201${version}-06-07`,
      ])
    const columns = Object.keys(CARD_COLUMN_TYPES) as (keyof typeof CARD_COLUMN_TYPES)[]
    const expectStored = async (text: string, name: string) => {
      const mapped = mapCard(text, 1)
      if (mapped.kind !== 'contact') throw new Error(`the test card is rejected: ${mapped.reason}`)
      const wanted = cardColumns(mapped)
      // A meaningful card: every column has a value to store.
      for (const column of columns) expect([column, wanted[column]]).not.toEqual([column, null])
      const stored = await byName(name)
      expect(Object.fromEntries(columns.map((column) => [column, stored[column]]))).toEqual(wanted)
    }
    await radicale.put('alice', `${bookUrl}every.vcf`, full(1), VCARD)
    expect(await sync()).toMatchObject({ created: 1 })
    await expectStored(full(1), 'Eve Ry1')
    await radicale.put('alice', `${bookUrl}every.vcf`, full(2), VCARD)
    expect(await sync()).toMatchObject({ updated: 1 })
    await expectStored(full(2), 'Eve Ry2')
  })

  it('writes a local edit back with If-Match, keeping the card\u2019s other properties', async () => {
    const { sync, bookUrl, byName, writeDeps, user, get } = await setup()
    await radicale.put('alice', `${bookUrl}w.vcf`, card('w', 'Wanda Writer', ['EMAIL:wanda@example.com', 'ADR;TYPE=HOME:;;1 Main St;Springfield;IL;62701;USA', 'X-CUSTOM:kept']), VCARD)
    await sync()
    const wanda = await byName('Wanda Writer')
    const edited = await updateContact(writeDeps, user.id, wanda.id, { name: 'Wanda Maximoff', phone: '+1 555 0123' }, new Date())
    expect(edited.remoteDirty.sort()).toEqual(['name', 'phone'])

    const result = await sync()
    // The PUT, then the REPORT that lists our own write (same ETag: not read again).
    expect(result).toMatchObject({ written: 1, conflicts: 0, read: 0, updated: 0, requests: 2 })
    const server = await get(wanda.remoteHref!)
    expect(server.text).toContain('FN:Wanda Maximoff')
    expect(server.text).toContain('TEL:+1 555 0123')
    expect(server.text).toContain('ADR;TYPE=HOME:;;1 Main St;Springfield;IL;62701;USA')
    expect(server.text).toContain('X-CUSTOM:kept')
    expect(server.text).toContain('EMAIL:wanda@example.com')
    const after = await byName('Wanda Maximoff')
    expect(after).toMatchObject({ remoteDirty: [], remoteEtag: server.etag, phone: '+1 555 0123' })
  })

  it('a field edited on both sides: the server wins, the local value is kept in a SyncConflict; the other edit is written', async () => {
    const { sync, bookUrl, byName, writeDeps, user, get, account } = await setup()
    await radicale.put('alice', `${bookUrl}k.vcf`, card('k', 'Kim Conflict', ['EMAIL:kim@example.com', 'NOTE:from the server']), VCARD)
    await sync()
    const kim = await byName('Kim Conflict')
    await radicale.put('alice', `${bookUrl}k.vcf`, card('k', 'Kim Server', ['EMAIL:kim@example.com', 'NOTE:from the server', 'BDAY:1990-02-03']), VCARD)
    await updateContact(writeDeps, user.id, kim.id, { name: 'Kim Local', email: 'kim.local@example.com' }, new Date())

    const result = await sync()
    expect(result).toMatchObject({ conflicts: 1, written: 1 })
    const after = await db.prisma.contact.findUniqueOrThrow({ where: { id: kim.id } })
    expect(after).toMatchObject({ name: 'Kim Server', email: 'kim.local@example.com', birthday: '1990-02-03', remoteDirty: [] })
    expect(await db.prisma.syncConflict.findMany({ where: { contactId: kim.id }, select: { field: true, localValue: true, remoteValue: true, accountId: true, userId: true } })).toEqual([
      { field: 'name', localValue: 'Kim Local', remoteValue: 'Kim Server', accountId: account.id, userId: user.id },
    ])
    const server = await get(after.remoteHref!)
    expect(server.text).toContain('FN:Kim Server')
    expect(server.text).toContain('EMAIL:kim.local@example.com')
    expect(server.text).toContain('BDAY:1990-02-03')
    expect(after.remoteEtag).toBe(server.etag)
    // Settled: the next sync has nothing to do.
    expect(await sync()).toMatchObject({ written: 0, conflicts: 0, read: 0, updated: 0 })
  })

  it('resolving a conflict: LOCAL writes the local value back with If-Match; REMOTE keeps the server\u2019s; both leave the open list; NOT_FOUND for another user', async () => {
    const { sync, bookUrl, byName, writeDeps, user, get } = await setup()
    await radicale.put('alice', `${bookUrl}r.vcf`, card('r', 'Rae Start', ['EMAIL:rae@example.com', 'TEL:+44 20 7946 0001', 'X-CUSTOM:kept']), VCARD)
    await sync()
    const rae = await byName('Rae Start')
    // Name and phone edited on both sides: two conflicts, the server's values win.
    await radicale.put('alice', `${bookUrl}r.vcf`, card('r', 'Rae Server', ['EMAIL:rae@example.com', 'TEL:+44 20 7946 0002', 'X-CUSTOM:kept']), VCARD)
    await updateContact(writeDeps, user.id, rae.id, { name: 'Rae Local', phone: '+44 20 7946 0003' }, new Date())
    expect(await sync()).toMatchObject({ conflicts: 2 })
    const open = () => db.prisma.syncConflict.findMany({ where: { contactId: rae.id, resolvedAt: null }, orderBy: { field: 'asc' } })
    const [nameConflict, phoneConflict] = await open()
    expect(await open()).toHaveLength(2)
    expect(nameConflict).toMatchObject({ field: 'name', localValue: 'Rae Local', remoteValue: 'Rae Server' })
    expect(phoneConflict).toMatchObject({ field: 'phone', localValue: '+44 20 7946 0003', remoteValue: '+44 20 7946 0002' })
    const etagBefore = (await db.prisma.contact.findUniqueOrThrow({ where: { id: rae.id } })).remoteEtag
    // An older open conflict of the same field (an earlier sync's): the later answer settles it too.
    await db.prisma.syncConflict.create({
      data: { userId: user.id, contactId: rae.id, accountId: nameConflict!.accountId, field: 'name', localValue: 'Rae Older', remoteValue: 'Rae Start', createdAt: new Date(nameConflict!.createdAt.getTime() - 60_000) },
    })

    // Another user's conflict: NOT_FOUND, nothing changes.
    const mallory = await db.prisma.user.create({ data: { email: `mallory-${kind}-${books}@example.com` } })
    await expect(resolveSyncConflict(writeDeps, mallory.id, nameConflict!.id, 'LOCAL', new Date())).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await open()).toHaveLength(3)

    // LOCAL: the contact takes the local value, marked for the write-back.
    const local = await resolveSyncConflict(writeDeps, user.id, nameConflict!.id, 'LOCAL', new Date())
    expect(local.conflict.resolvedAt).not.toBeNull()
    expect(local.contact).toMatchObject({ name: 'Rae Local', remoteDirty: ['name'] })
    // REMOTE: the server's phone stays, nothing to write.
    const remote = await resolveSyncConflict(writeDeps, user.id, phoneConflict!.id, 'REMOTE', new Date())
    expect(remote).toMatchObject({ contact: null, conflict: { resolvedAt: expect.any(Date) } })
    expect(await open()).toEqual([])
    // Answered already: as it is, nothing written again.
    expect(await resolveSyncConflict(writeDeps, user.id, phoneConflict!.id, 'LOCAL', new Date())).toEqual(remote)
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: rae.id } })).toMatchObject({ name: 'Rae Local', phone: '+44 20 7946 0002', remoteDirty: ['name'] })

    // The next sync PUTs the local name on the card it last read (If-Match: its ETag): no new conflict.
    expect(await sync()).toMatchObject({ written: 1, conflicts: 0 })
    const after = await db.prisma.contact.findUniqueOrThrow({ where: { id: rae.id } })
    const server = await get(after.remoteHref!)
    expect(server.text).toContain('FN:Rae Local')
    expect(server.text).toContain('TEL:+44 20 7946 0002')
    expect(server.text).toContain('X-CUSTOM:kept')
    expect(after).toMatchObject({ name: 'Rae Local', phone: '+44 20 7946 0002', remoteDirty: [], remoteEtag: server.etag })
    expect(after.remoteEtag).not.toBe(etagBefore)
    expect(await db.prisma.syncConflict.count({ where: { contactId: rae.id } })).toBe(3)
  })

  it('PUTs a contact created here as a new card, once', async () => {
    const { sync, user, account, get, contacts } = await setup()
    const made = await createContact({ prisma: db.prisma, announce: () => {} }, user.id, { name: 'Local Made', email: 'made@example.com' }, new Date())
    await db.prisma.contact.update({ where: { id: made.id }, data: { accountId: account.id, remoteDirty: ['create'] } })
    const result = await sync()
    expect(result).toMatchObject({ written: 1, created: 0 })
    const after = await db.prisma.contact.findUniqueOrThrow({ where: { id: made.id } })
    expect(after.remoteHref).toMatch(/\.vcf$/)
    expect(after.remoteDirty).toEqual([])
    const server = await get(after.remoteHref!)
    expect(server.status).toBe(200)
    expect(server.text).toContain('FN:Local Made')
    expect(server.text).toContain('made@example.com')
    expect(await sync()).toMatchObject({ written: 0, created: 0, read: 0 })
    expect(await contacts()).toHaveLength(1)
  })

  it('links a new card to the one contact typed in by hand with its e-mail; the fields the user owns survive a remote edit', async () => {
    const { sync, bookUrl, user, writeDeps, contacts } = await setup()
    const typed = await createContact(writeDeps, user.id, { name: 'Dee Dupe', email: 'DEE@example.com', dunbarCircle: 'CLOSE', customNotes: 'met at the conference' }, new Date())
    await updateContact(writeDeps, user.id, typed.id, { frequencyPreference: 'MONTHLY', tags: ['friends'] }, new Date())
    await radicale.put('alice', `${bookUrl}d.vcf`, card('d', 'Dee Remote', ['EMAIL:dee@example.com', 'TEL:+44 20 7946 0000']), VCARD)
    expect(await sync()).toMatchObject({ created: 0, updated: 1 })
    const [linked, ...rest] = await contacts()
    expect(rest).toEqual([])
    expect(linked).toMatchObject({ id: typed.id, name: 'Dee Remote', accountId: expect.any(String), source: 'CARDDAV', phone: '+44 20 7946 0000', dunbarCircle: 'CLOSE', customNotes: 'met at the conference' })

    await radicale.put('alice', `${bookUrl}d.vcf`, card('d', 'Dee Renamed', ['EMAIL:dee@example.com', 'NOTE:the server\u2019s note']), VCARD)
    expect(await sync()).toMatchObject({ updated: 1 })
    const after = await db.prisma.contact.findUniqueOrThrow({ where: { id: typed.id } })
    expect(after).toMatchObject({
      name: 'Dee Renamed',
      phone: null,
      dunbarCircle: 'CLOSE',
      frequencyPreference: 'MONTHLY',
      customNotes: 'met at the conference',
      tags: ['friends'],
    })
  })

  it('stops between pages when aborted (the token stays, the rerun duplicates nothing), and creates no more contacts than the quota', async () => {
    const { sync, bookUrl, collection, contacts } = await setup()
    for (const uid of ['q1', 'q2', 'q3']) await radicale.put('alice', `${bookUrl}${uid}.vcf`, card(uid, `Quota ${uid}`), VCARD)
    const aborted = new AbortController()
    aborted.abort(new Error('shutting down'))
    await expect(sync({ signal: aborted.signal, maxContacts: 2 })).rejects.toThrow('shutting down')
    expect(await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })).toMatchObject({ syncToken: null, lastSyncedAt: null })
    expect(await contacts()).toHaveLength(2)
    const rerun = await sync({ maxContacts: 2 })
    // The card past the quota is read again (it has no contact) and skipped again; nothing is duplicated.
    expect(rerun).toMatchObject({ created: 0, unchanged: 2, rejected: 1, fullResync: true })
    expect(await contacts()).toHaveLength(2)
    expect(await sync({ maxContacts: 10 })).toMatchObject({ created: 0, read: 0, fullResync: false })
  })
})
