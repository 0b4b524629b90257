/**
 * Issue 15, accounts end to end on a real server against a real Radicale (through a counting proxy):
 * connect → accounts lists the discovered address books → setAccountCollections → syncAccount → the
 * syncProgress subscription sees the run finish with status OK and then ends; disconnect; another user gets
 * NOT_FOUND on every operation with someone's account id; credentials never appear in clear in the
 * Account rows, the captured logs or any API answer; without DAV_ALLOW_PRIVATE_URLS a loopback URL is
 * refused; wrong credentials at connect time name `input.password`; and a property: random
 * ConnectAccountInput values never give INTERNAL_SERVER_ERROR or a 5xx.
 * Also the whole way: cards come in as contacts, and an edit made here goes back to the server; a
 * conflict answered with resolveSyncConflict LOCAL goes back too (another user: NOT_FOUND).
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { results, wsClient } from '../helpers/clients.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { captureLogs } from '../helpers/log-capture.ts'
import { radicaleAvailable, startRadicale, type Radicale } from '../helpers/radicale.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startCountingProxy, type CountingProxy } from '../helpers/test-dav.ts'

const enabled = radicaleAvailable()
const PASSWORD = 'alice-password'
const ACCOUNT_FIELDS = 'id kind url status lastSyncedAt lastError counts { contacts events } collections { url displayName kind enabled }'
const CONNECT = `mutation($input: ConnectAccountInput!) { connectAccount(input: $input) { ${ACCOUNT_FIELDS} } }`

describe.skipIf(!enabled)('accounts end to end against Radicale', () => {
  let db: TestDatabase
  let radicale: Radicale
  let proxy: CountingProxy
  let server: TestServer
  let guarded: TestServer
  const logs = captureLogs('debug')
  /** Every answer the API gave, as text: no credential may be in any. */
  const answers: string[] = []
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    radicale = await startRadicale({ alice: PASSWORD, bob: 'bob-password' })
    await radicale.createAddressBook('alice', 'family', 'Family')
    await radicale.createAddressBook('alice', 'work', 'Work')
    proxy = await startCountingProxy(radicale.url)
    // The server's own DAV wire and syncers, as configured by the environment.
    server = await startTestServer(db, { env: { DAV_ALLOW_PRIVATE_URLS: 'true' }, logger: logs.logger })
    guarded = await startTestServer(db, { logger: logs.logger })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await guarded?.close()
    await proxy?.close()
    await radicale?.stop()
    await db?.destroy()
  })

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `accounts${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }

  /** A GraphQL POST whose answer (and status) is recorded. */
  async function call(target: TestServer, query: string, variables: Record<string, unknown>, token: string) {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    })
    const text = await response.text()
    answers.push(text)
    return { status: response.status, body: JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] } }
  }

  it('connects, lists, picks a collection, syncs (followed on syncProgress) and disconnects; no credential leaks anywhere', async () => {
    const alice = await newUser()
    const connected = await call(server, CONNECT, { input: { kind: 'CARDDAV', url: proxy.url, username: 'alice', password: PASSWORD } }, alice.token)
    expect(connected.body.errors).toBeUndefined()
    const account = connected.body.data.connectAccount
    expect(account).toMatchObject({ kind: 'CARDDAV', url: proxy.url, status: 'OK', lastSyncedAt: null, lastError: null, counts: { contacts: 0, events: 0 } })
    // Two address books found: none enabled, the user picks.
    expect(account.collections).toEqual([
      { url: `${proxy.url}/alice/family/`, displayName: 'Family', kind: 'ADDRESS_BOOK', enabled: false },
      { url: `${proxy.url}/alice/work/`, displayName: 'Work', kind: 'ADDRESS_BOOK', enabled: false },
    ])
    const listed = await call(server, `{ accounts { ${ACCOUNT_FIELDS} } }`, {}, alice.token)
    expect(listed.body.data.accounts).toEqual([account])

    // Follow the account before asking: the first event (CURRENT) says the subscription is listening.
    const client = wsClient(server.url, alice.token)
    const events: any[] = []
    let listening!: () => void
    const ready = new Promise<void>((resolve) => (listening = resolve))
    const finished = results(client, { query: `subscription($id: ID!) { syncProgress(accountId: $id) { phase collectionUrl done account { status lastSyncedAt lastError collections { url enabled } } } }`, variables: { id: account.id } }, (result) => {
      const event = result.data?.syncProgress
      events.push(event ?? result)
      if (event?.phase === 'CURRENT') listening()
      // Only an error stops reading here: the server itself ends the stream after FINISHED.
      return result.errors !== undefined
    })
    await ready
    const picked = await call(server, 'mutation($id: ID!, $urls: [String!]!) { setAccountCollections(id: $id, collectionUrls: $urls) { collections { url enabled } } }', { id: account.id, urls: [`${proxy.url}/alice/work/`] }, alice.token)
    expect(picked.body.data.setAccountCollections.collections).toEqual([
      { url: `${proxy.url}/alice/family/`, enabled: false },
      { url: `${proxy.url}/alice/work/`, enabled: true },
    ])
    const synced = await call(server, `mutation($id: ID!) { syncAccount(id: $id) { id status } }`, { id: account.id }, alice.token)
    expect(synced.body.data.syncAccount.id).toBe(account.id)
    await finished
    await client.dispose()
    const last = events.at(-1)
    // FINISHED is the last event: the stream completed after it.
    expect(last).toMatchObject({ phase: 'FINISHED', account: { status: 'OK', lastError: null } })
    expect(events.filter((event) => event.phase === 'FINISHED')).toHaveLength(1)
    expect(last.account.lastSyncedAt).not.toBeNull()
    expect(events.map((event) => event.phase)).toContain('STARTED')
    expect(events.some((event) => event.phase === 'DONE' && event.collectionUrl === `${proxy.url}/alice/work/`)).toBe(true)
    answers.push(JSON.stringify(events))

    // Never in clear: in any column of the Account rows, the logs, or any answer.
    const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>('SELECT * FROM "Account"')
    expect(rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(rows)).not.toContain(PASSWORD)
    expect(JSON.stringify(rows)).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'))
    expect(logs.lines.length).toBeGreaterThan(0)
    expect(JSON.stringify(logs.lines)).not.toContain(PASSWORD)
    expect(answers.join('\n')).not.toContain(PASSWORD)

    const gone = await call(server, 'mutation($id: ID!) { disconnectAccount(id: $id) }', { id: account.id }, alice.token)
    expect(gone.body.data).toEqual({ disconnectAccount: true })
    expect((await call(server, '{ accounts { id } }', {}, alice.token)).body.data.accounts).toEqual([])
    expect(await db.prisma.account.count({ where: { userId: alice.id } })).toBe(0)
    expect(await db.prisma.accountCollection.count({ where: { accountId: decodeGlobalID(account.id).id } })).toBe(0)
  })

  it('brings the cards of the chosen address book in as contacts, and writes an edit made here back with If-Match', async () => {
    const alice = await newUser()
    const book = await radicale.createAddressBook('alice', `sync${users}`, 'Synced')
    await radicale.put('alice', `${book}ann.vcf`, 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nEMAIL:ann@example.com\r\nADR;TYPE=HOME:;;1 Main St;Springfield;;;\r\nEND:VCARD\r\n', 'text/vcard')
    const account = (await call(server, CONNECT, { input: { kind: 'CARDDAV', url: book, username: 'alice', password: PASSWORD } }, alice.token)).body.data.connectAccount
    // The URL is the address book itself: found alone, so enabled at once.
    expect(account.collections).toEqual([{ url: book, displayName: 'Synced', kind: 'ADDRESS_BOOK', enabled: true }])
    await call(server, 'mutation($id: ID!) { syncAccount(id: $id) { id } }', { id: account.id }, alice.token)
    const contactsQuery = '{ contacts(first: 10) { edges { node { id name email source account { id } } } } }'
    let node: any
    await vi.waitFor(async () => {
      node = (await call(server, contactsQuery, {}, alice.token)).body.data.contacts.edges[0]?.node
      expect(node).toMatchObject({ name: 'Ann Example', email: 'ann@example.com', source: 'CARDDAV', account: { id: account.id } })
    }, { timeout: 20_000, interval: 100 })

    const edited = await call(server, 'mutation($id: ID!) { updateContact(id: $id, input: { name: "Ann Edited" }) { name } }', { id: node.id }, alice.token)
    expect(edited.body.data.updateContact.name).toBe('Ann Edited')
    // The edit queued a sync that PUTs the card with If-Match: the server's card changes, its other lines stay.
    await vi.waitFor(async () => {
      const card = await (await fetch(`${book}ann.vcf`, { headers: { authorization: radicale.authorization('alice') } })).text()
      expect(card).toContain('FN:Ann Edited')
      expect(card).toContain('1 Main St')
    }, { timeout: 20_000, interval: 100 })

    // Created here in the account: the queued sync PUTs a new card (If-None-Match: *) into the address book.
    const created = await call(server, 'mutation($account: ID) { createContact(input: { name: "Bo Created", email: "bo@example.com" }, account: $account) { id source account { id } } }', { account: account.id }, alice.token)
    expect(created.body.data.createContact).toMatchObject({ source: 'CARDDAV', account: { id: account.id } })
    await vi.waitFor(async () => {
      const listing = await (await fetch(book, { method: 'PROPFIND', headers: { depth: '1', authorization: radicale.authorization('alice') } })).text()
      const hrefs = [...listing.matchAll(/<href>([^<]+\.vcf)<\/href>/g)].map((match) => match[1]!)
      expect(hrefs).toHaveLength(2)
      const cards = await Promise.all(hrefs.map(async (href) => (await fetch(new URL(href, book), { headers: { authorization: radicale.authorization('alice') } })).text()))
      expect(cards.some((card) => card.includes('FN:Bo Created') && card.includes('bo@example.com'))).toBe(true)
    }, { timeout: 20_000, interval: 100 })
    // Someone else's (or a made-up) account: NOT_FOUND, nothing created.
    const bob = await newUser()
    const refused = await call(server, 'mutation($account: ID) { createContact(input: { name: "Nope" }, account: $account) { id } }', { account: account.id }, bob.token)
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect(await db.prisma.contact.count({ where: { userId: bob.id } })).toBe(0)
  })

  it('a conflict made by editing both sides: resolveSyncConflict LOCAL sends the local value to the server, it leaves the open list; another user gets NOT_FOUND', async () => {
    const alice = await newUser()
    const book = await radicale.createAddressBook('alice', `conflict${users}`, 'Conflict')
    const cardText = (name: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cy\r\nFN:${name}\r\nN:${name.split(' ')[1]};${name.split(' ')[0]};;;\r\nEMAIL:cy@example.com\r\nEND:VCARD\r\n`
    await radicale.put('alice', `${book}cy.vcf`, cardText('Cy Start'), 'text/vcard')
    const account = (await call(server, CONNECT, { input: { kind: 'CARDDAV', url: book, username: 'alice', password: PASSWORD } }, alice.token)).body.data.connectAccount
    await call(server, 'mutation($id: ID!) { syncAccount(id: $id) { id } }', { id: account.id }, alice.token)
    let contactId = ''
    await vi.waitFor(async () => {
      const node = (await call(server, '{ contacts(first: 1) { edges { node { id name } } } }', {}, alice.token)).body.data.contacts.edges[0]?.node
      expect(node).toMatchObject({ name: 'Cy Start' })
      contactId = node.id
    }, { timeout: 20_000, interval: 100 })
    // The server's edit first, then one here: the write-back the edit queues meets a 412, the server wins.
    await radicale.put('alice', `${book}cy.vcf`, cardText('Cy Server'), 'text/vcard')
    await call(server, 'mutation($id: ID!) { updateContact(id: $id, input: { name: "Cy Local" }) { id } }', { id: contactId }, alice.token)
    let conflict: any
    await vi.waitFor(async () => {
      ;[conflict] = (await call(server, '{ syncConflicts { id field localValue remoteValue resolvedAt contact { name } } }', {}, alice.token)).body.data.syncConflicts
      expect(conflict).toMatchObject({ field: 'name', localValue: 'Cy Local', remoteValue: 'Cy Server', resolvedAt: null, contact: { name: 'Cy Server' } })
    }, { timeout: 20_000, interval: 100 })

    const RESOLVE = 'mutation($id: ID!, $keep: SyncConflictChoice!) { resolveSyncConflict(id: $id, keep: $keep) { id field resolvedAt contact { name } } }'
    const bob = await newUser()
    const refused = await call(server, RESOLVE, { id: conflict.id, keep: 'LOCAL' }, bob.token)
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect(refused.body.data).toBeNull()

    const resolved = await call(server, RESOLVE, { id: conflict.id, keep: 'LOCAL' }, alice.token)
    expect(resolved.body.errors).toBeUndefined()
    expect(resolved.body.data.resolveSyncConflict).toMatchObject({ id: conflict.id, field: 'name', resolvedAt: expect.any(String), contact: { name: 'Cy Local' } })
    const open = await call(server, 'query($id: ID!) { syncConflicts { id } node(id: $id) { ... on Contact { syncConflicts { id } } } }', { id: contactId }, alice.token)
    expect(open.body.data).toEqual({ syncConflicts: [], node: { syncConflicts: [] } })
    // The sync it queued PUTs the local name (If-Match on the card the contact took).
    await vi.waitFor(async () => {
      const text = await (await fetch(`${book}cy.vcf`, { headers: { authorization: radicale.authorization('alice') } })).text()
      expect(text).toContain('FN:Cy Local')
      expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: decodeGlobalID(contactId).id } })).toMatchObject({ name: 'Cy Local', remoteDirty: [] })
    }, { timeout: 20_000, interval: 100 })
    expect(await db.prisma.syncConflict.count({ where: { userId: alice.id } })).toBe(1)
  })

  it('connecting the same account again reconnects it: same id, credentials replaced, status OK, new collections added', async () => {
    const alice = await newUser()
    const input = { kind: 'CARDDAV', url: `${proxy.url}/`, username: 'alice', password: PASSWORD }
    const first = (await call(server, CONNECT, { input }, alice.token)).body.data.connectAccount
    const id = decodeGlobalID(first.id).id
    await db.prisma.account.update({ where: { id }, data: { status: 'NEEDS_REAUTH', lastError: 'the server refused the credentials (401)' } })
    const sealedBefore = (await db.prisma.account.findUniqueOrThrow({ where: { id } })).credentials
    await radicale.createAddressBook('alice', `later${users}`, 'Later')
    const again = await call(server, CONNECT, { input }, alice.token)
    expect(again.body.errors).toBeUndefined()
    const account = again.body.data.connectAccount
    expect(account).toMatchObject({ id: first.id, status: 'OK', lastError: null })
    expect(account.collections).toContainEqual({ url: `${proxy.url}/alice/later${users}/`, displayName: 'Later', kind: 'ADDRESS_BOOK', enabled: false })
    expect(account.collections.length).toBe(first.collections.length + 1)
    expect(await db.prisma.account.count({ where: { userId: alice.id } })).toBe(1)
    expect((await db.prisma.account.findUniqueOrThrow({ where: { id } })).credentials).not.toBe(sealedBefore)
    // Another user name on the same server is another account.
    await radicale.createAddressBook('bob', `b${users}`, 'Bob')
    const other = await call(server, CONNECT, { input: { ...input, username: 'bob', password: 'bob-password' } }, alice.token)
    expect(other.body.data.connectAccount.id).not.toBe(first.id)
  })

  it("never lets another user see, sync, change, follow or disconnect someone's account (NOT_FOUND)", async () => {
    const alice = await newUser()
    const bob = await newUser()
    const account = (await call(server, CONNECT, { input: { kind: 'CARDDAV', url: `${proxy.url}/`, username: 'alice', password: PASSWORD } }, alice.token)).body.data.connectAccount
    const id = account.id
    const attempts = [
      await call(server, 'mutation($id: ID!) { syncAccount(id: $id) { id } }', { id }, bob.token),
      await call(server, 'mutation($id: ID!) { setAccountCollections(id: $id, collectionUrls: []) { id } }', { id }, bob.token),
      await call(server, 'mutation($id: ID!) { disconnectAccount(id: $id) }', { id }, bob.token),
      await call(server, 'query($id: ID!) { node(id: $id) { id } }', { id }, bob.token),
    ]
    for (const attempt of attempts) expect(attempt.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect((await call(server, '{ accounts { id } }', {}, bob.token)).body.data.accounts).toEqual([])
    const bobsClient = wsClient(server.url, bob.token)
    const progress = await results(bobsClient, { query: 'subscription($id: ID!) { syncProgress(accountId: $id) { phase } }', variables: { id } }).catch((error: unknown) => error)
    await bobsClient.dispose()
    expect(JSON.stringify(progress)).toMatch(/NOT_FOUND/)
    // Still there, untouched, for its owner.
    const mine = await call(server, `{ accounts { id collections { enabled } } }`, {}, alice.token)
    expect(mine.body.data.accounts.map((a: { id: string }) => a.id)).toContain(id)
    // Collections not the account's: BAD_USER_INPUT.
    const stranger = await call(server, 'mutation($id: ID!) { setAccountCollections(id: $id, collectionUrls: ["http://elsewhere.invalid/x/"]) { id } }', { id }, alice.token)
    expect(stranger.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'collectionUrls' })
  })

  it('shows a synced contact\'s account and conflicts; disconnecting keeps the contact (unlinked) and removes the events, giving back their quota', async () => {
    const alice = await newUser()
    const account = (await call(server, CONNECT, { input: { kind: 'CARDDAV', url: proxy.url, username: 'alice', password: PASSWORD } }, alice.token)).body.data.connectAccount
    const accountId = decodeGlobalID(account.id).id
    // What a sync leaves behind (contacts-sync.ts and calendar-sync.ts write these rows).
    const contact = await db.prisma.contact.create({
      data: { userId: alice.id, name: 'Ada', source: 'CARDDAV', accountId, remoteHref: '/alice/family/ada.vcf', remoteEtag: '"1"', nextDueAt: new Date() },
    })
    await db.prisma.syncConflict.create({ data: { userId: alice.id, contactId: contact.id, accountId, field: 'email', localValue: 'ada@here.example', remoteValue: 'ada@there.example' } })
    await db.prisma.calendarEvent.create({ data: { userId: alice.id, accountId, remoteHref: '/alice/cal/e.ics', startsAt: new Date(), endsAt: new Date(Date.now() + 3_600_000) } })
    await db.prisma.user.update({ where: { id: alice.id }, data: { calendarEventCount: 1 } })
    const contactId = encodeGlobalID('Contact', contact.id)
    const seen = await call(server, 'query($id: ID!) { node(id: $id) { ... on Contact { source account { id kind } syncConflicts { field localValue remoteValue } } } syncConflicts { field contact { name } } }', { id: contactId }, alice.token)
    expect(seen.body.data).toEqual({
      node: { source: 'CARDDAV', account: { id: account.id, kind: 'CARDDAV' }, syncConflicts: [{ field: 'email', localValue: 'ada@here.example', remoteValue: 'ada@there.example' }] },
      syncConflicts: [{ field: 'email', contact: { name: 'Ada' } }],
    })
    expect((await call(server, 'mutation($id: ID!) { disconnectAccount(id: $id) }', { id: account.id }, alice.token)).body.data).toEqual({ disconnectAccount: true })
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).toMatchObject({ name: 'Ada', accountId: null, remoteHref: null, remoteEtag: null })
    expect(await db.prisma.calendarEvent.count({ where: { userId: alice.id } })).toBe(0)
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } })).calendarEventCount).toBe(0)
    const after = await call(server, 'query($id: ID!) { node(id: $id) { ... on Contact { account { id } syncConflicts { field } } } }', { id: contactId }, alice.token)
    expect(after.body.data).toEqual({ node: { account: null, syncConflicts: [{ field: 'email' }] } })
  })

  it('refuses wrong credentials (input.password) and, without DAV_ALLOW_PRIVATE_URLS, a loopback URL (input.url)', async () => {
    const alice = await newUser()
    const wrong = await call(server, CONNECT, { input: { kind: 'CARDDAV', url: proxy.url, username: 'alice', password: 'not-the-password' } }, alice.token)
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' })
    expect(wrong.body.errors?.[0]?.message).toMatch(/refused these credentials/)
    const loopback = await call(guarded, CONNECT, { input: { kind: 'CARDDAV', url: radicale.url, username: 'alice', password: PASSWORD } }, alice.token)
    expect(loopback.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' })
    const before = proxy.requests
    const metadata = await call(guarded, CONNECT, { input: { kind: 'CALDAV', url: 'http://169.254.169.254/latest/', username: 'a', password: 'b' } }, alice.token)
    expect(metadata.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' })
    expect(proxy.requests).toBe(before)
    expect(await db.prisma.account.count({ where: { userId: alice.id } })).toBe(0)
  })

  it('property: random ConnectAccountInput values never give INTERNAL_SERVER_ERROR or a 5xx', async () => {
    const alice = await newUser()
    const text = (max: number) => fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: max - 2, maxLength: max + 2 }), fc.constant('\u0000'), fc.constant('\ud800'))
    const url = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('http://127.0.0.1:1/', 'https://10.1.2.3/dav/', 'http://[::1]/', 'http://169.254.169.254/', 'ftp://example.invalid/', 'http://u:p@example.invalid/', 'http://no-such-host.invalid/dav/', 'http:///', 'https://'),
      fc.string({ minLength: 2040, maxLength: 2060 }).map((rest) => `http://a.invalid/${rest}`),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            kind: fc.constantFrom('CARDDAV', 'CALDAV', 'WEBDAV', 7),
            url: fc.oneof(url, fc.constant(null), fc.integer()),
            username: fc.oneof(text(1024), fc.constant(null)),
            password: fc.oneof(text(1024), fc.constant(null)),
            accessToken: fc.oneof(text(8192), fc.constant(null)),
            refreshToken: fc.oneof(text(8192), fc.constant(null)),
          },
          { requiredKeys: [] },
        ),
        async (input) => {
          const { status, body } = await call(guarded, CONNECT, { input }, alice.token)
          expect(status).toBeLessThan(500)
          for (const error of body.errors ?? []) expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR')
        },
      ),
      { numRuns: 120 },
    )
    expect(await db.prisma.account.count({ where: { userId: alice.id } })).toBe(0)
  }, 120_000)
})
