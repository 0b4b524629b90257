/**
 * A hostile client against the surface issue 13 added (groups with default cadence, tags, suggestion
 * undo/restore, birthdays, history and counts, POST /dev/token). Each test asserts the CORRECT
 * behaviour: a failing test here is a finding (see the report of branch i13-hostile). Races are
 * tried a few rounds only (the machine is shared); on PGlite they serialize, PostgreSQL shows them.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { captureLogs, ERROR_LEVEL } from '../helpers/log-capture.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { normalizeSql } from '../helpers/recorded-sql.ts'
import { startTestServer, TEST_SERVER_SECRET_KEY, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const ROUNDS = 8

describe.each(kinds)('a hostile client against the issue-13 surface on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  let aliceContacts: string[]
  let bobContacts: string[]
  const queries: string[] = []
  const logs = captureLogs('info')

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => queries.push(sql) })
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 8)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 3)
    server = await startTestServer(db, { clock: { now: () => new Date(FIXTURE_NOW) }, logger: logs.logger })
    const active = async (userId: string) =>
      (await db.prisma.contact.findMany({ where: { userId, archived: false }, orderBy: { id: 'asc' } })).map((contact) => encodeGlobalID('Contact', contact.id))
    aliceContacts = await active(alice.id)
    bobContacts = await active(bob.id)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function ok(query: string, variables: Record<string, unknown> = {}, token = alice.token): Promise<Record<string, any>> {
    const result = await server.query(query, variables, token)
    expect(result.errors, query).toBeUndefined()
    return result.data!
  }
  const errorsOf = async (query: string, variables: Record<string, unknown>, token = alice.token) => (await server.query(query, variables, token)).errors ?? []
  const createGroup = async (name: string, f: string | null = null, token = alice.token) =>
    (await ok('mutation($n: String!, $f: FrequencyPreference) { createGroup(name: $n, defaultFrequency: $f) { id name } }', { n: name, f }, token)).createGroup as {
      id: string
      name: string
    }
  const createContact = async (input: Record<string, unknown>, token = alice.token) =>
    (await ok('mutation($i: CreateContactInput!) { createContact(input: $i) { id tags birthday anniversary } }', { i: input }, token)).createContact
  const RENAME_GROUP = 'mutation($id: ID!, $n: String) { updateGroup(id: $id, input: { name: $n }) { id name } }'
  const SET_GROUPS = 'mutation($c: ID!, $g: [ID!]!) { setContactGroups(contactId: $c, groupIds: $g) { id } }'
  const DELETE_GROUP = 'mutation($id: ID!) { deleteGroup(id: $id) }'
  const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':')

  /** No answer may be an internal error: every refusal is a client error with a code. */
  const noInternal = (errors: { extensions?: Record<string, unknown> }[]) => {
    // The server's logged cause names the fault when the answer is an internal error.
    const causes = logs.lines.filter((line) => line.level >= ERROR_LEVEL).slice(-2).map((line) => `${line.msg}: ${line.err?.message?.split('\n').slice(-3).join(' ')}`)
    expect(errors.map((error) => error.extensions?.code), causes.join('\n')).not.toContain('INTERNAL_SERVER_ERROR')
  }

  describe('groups', () => {
    it('two concurrent renames of two groups to one free name: one wins, the other is BAD_USER_INPUT input.name (never an internal error)', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const [a, b] = await Promise.all([createGroup(`race-a-${round}`), createGroup(`race-b-${round}`)])
        const target = `race-same-${round}`
        const results = await Promise.all([a, b].map((group) => server.query(RENAME_GROUP, { id: group!.id, n: target }, alice.token)))
        const errors = results.flatMap((result) => result.errors ?? [])
        noInternal(errors)
        expect(results.filter((result) => !result.errors)).toHaveLength(1)
        expect(errors.map((error) => [error.extensions?.code, error.extensions?.field])).toEqual([['BAD_USER_INPUT', 'input.name']])
      }
    })

    it('a rename racing a create of the same name: never an internal error', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const group = await createGroup(`rc-${round}`)
        const name = `rc-same-${round}`
        const results = await Promise.all([
          server.query(RENAME_GROUP, { id: group.id, n: name }, alice.token),
          server.query('mutation($n: String!) { createGroup(name: $n) { id } }', { n: name }, alice.token),
        ])
        noInternal(results.flatMap((result) => result.errors ?? []))
        expect(results.filter((result) => !result.errors)).toHaveLength(1)
      }
    })

    it('renaming a group to its own name (or the same name padded) succeeds; to another group\'s name trimmed is refused', async () => {
      const group = await createGroup('Self')
      await createGroup('Other')
      expect((await ok(RENAME_GROUP, { id: group.id, n: ' Self ' })).updateGroup.name).toBe('Self')
      const errors = await errorsOf(RENAME_GROUP, { id: group.id, n: '  Other\t' })
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' })
    })

    it("another user's group: updateGroup NOT_FOUND, deleteGroup false, setContactGroups NOT_FOUND, and it is untouched", async () => {
      const bobs = await createGroup('Bobs', 'WEEKLY', bob.token)
      expect((await errorsOf(RENAME_GROUP, { id: bobs.id, n: 'mine' }))[0]?.extensions?.code).toBe('NOT_FOUND')
      expect((await ok(DELETE_GROUP, { id: bobs.id })).deleteGroup).toBe(false)
      expect((await errorsOf(SET_GROUPS, { c: aliceContacts[0], g: [bobs.id] }))[0]?.extensions?.code).toBe('NOT_FOUND')
      expect(await db.prisma.group.findUnique({ where: { id: rawId(bobs.id) } })).toMatchObject({ name: 'Bobs', defaultFrequency: 'WEEKLY' })
    })

    it('deleteGroup racing setContactGroups: no contact is left pointing at a deleted group, nor with a cadence inherited from it', async () => {
      const contact = await createContact({ name: 'Racer' })
      const contactId = rawId(contact.id)
      for (let round = 0; round < ROUNDS * 2; round++) {
        const group = await createGroup(`del-race-${round}`, 'WEEKLY')
        const results = await Promise.all([
          server.query(SET_GROUPS, { c: contact.id, g: [group.id] }, alice.token),
          server.query(DELETE_GROUP, { id: group.id }, alice.token),
        ])
        noInternal(results.flatMap((result) => result.errors ?? []))
        const row = await db.prisma.contact.findUniqueOrThrow({ where: { id: contactId } })
        const existing = await db.prisma.group.count({ where: { id: { in: row.groupIds } } })
        expect({ round, dangling: row.groupIds.length - existing }).toEqual({ round, dangling: 0 })
        if (row.groupIds.length === 0) expect({ round, fromGroup: row.frequencyFromGroup, f: row.frequencyPreference }).toEqual({ round, fromGroup: false, f: null })
        await ok(SET_GROUPS, { c: contact.id, g: [] })
      }
    })

    it("setContactGroups racing a change of the group's default: the member ends with the default in force", async () => {
      const contact = await createContact({ name: 'Joiner' })
      const contactId = rawId(contact.id)
      for (let round = 0; round < ROUNDS; round++) {
        const group = await createGroup(`default-race-${round}`)
        const results = await Promise.all([
          server.query(SET_GROUPS, { c: contact.id, g: [group.id] }, alice.token),
          server.query('mutation($id: ID!) { updateGroup(id: $id, input: { defaultFrequency: WEEKLY }) { id } }', { id: group.id }, alice.token),
        ])
        noInternal(results.flatMap((result) => result.errors ?? []))
        const row = await db.prisma.contact.findUniqueOrThrow({ where: { id: contactId } })
        expect({ round, f: row.frequencyPreference, fromGroup: row.frequencyFromGroup }).toEqual({ round, f: 'WEEKLY', fromGroup: true })
        await ok(SET_GROUPS, { c: contact.id, g: [] })
      }
    })

    it('clearing a member\'s own frequency racing the deletion of its group: no cadence inherited from a deleted group', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const group = await createGroup(`own-race-${round}`, 'WEEKLY')
        const contact = await createContact({ name: `Own ${round}`, frequencyPreference: 'MONTHLY' })
        await ok(SET_GROUPS, { c: contact.id, g: [group.id] })
        const results = await Promise.all([
          server.query('mutation($id: ID!) { updateContact(id: $id, input: { frequencyPreference: null }) { id } }', { id: contact.id }, alice.token),
          server.query(DELETE_GROUP, { id: group.id }, alice.token),
        ])
        noInternal(results.flatMap((result) => result.errors ?? []))
        const row = await db.prisma.contact.findUniqueOrThrow({ where: { id: rawId(contact.id) } })
        expect({ round, groupIds: row.groupIds, f: row.frequencyPreference, fromGroup: row.frequencyFromGroup }).toEqual({ round, groupIds: [], f: null, fromGroup: false })
      }
    })

    it('three concurrent deletes of one group: exactly one true, and the groups quota is given back once', async () => {
      const before = { counter: (await db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } })).groupCount, groups: await db.prisma.group.count({ where: { userId: alice.id } }) }
      const group = await createGroup('thrice', 'WEEKLY')
      const results = await Promise.all([0, 1, 2].map(() => server.query(DELETE_GROUP, { id: group.id }, alice.token)))
      noInternal(results.flatMap((result) => result.errors ?? []))
      expect(results.map((result) => result.data?.deleteGroup).sort()).toEqual([false, false, true])
      const after = { counter: (await db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } })).groupCount, groups: await db.prisma.group.count({ where: { userId: alice.id } }) }
      expect(after.counter - before.counter).toBe(after.groups - before.groups)
    })

    it('deleteGroup with ids that are not groups: false or BAD_USER_INPUT, never internal', async () => {
      for (const id of [encodeGlobalID('Group', 'x'.repeat(5000)), encodeGlobalID('Group', '\u0000'), aliceContacts[0]!, 'Z3JvdXA6']) {
        const result = await server.query(DELETE_GROUP, { id }, alice.token)
        noInternal(result.errors ?? [])
      }
    })
  })

  describe('tags', () => {
    const RENAME = 'mutation($f: String!, $t: String!) { renameTag(from: $f, to: $t) }'
    const tagsOf = async (id: string) => (await db.prisma.contact.findUniqueOrThrow({ where: { id: rawId(id) } })).tags

    it('renaming a tag to itself (padded) changes nothing; into an existing tag merges without duplicates; case is a different tag', async () => {
      const one = await createContact({ name: 'T1', tags: ['hx-a', 'hx-b'] })
      const two = await createContact({ name: 'T2', tags: ['hx-a'] })
      expect((await ok(RENAME, { f: ' hx-a ', t: 'hx-a' })).renameTag).toBe(0)
      expect((await ok(RENAME, { f: 'hx-a', t: 'hx-b' })).renameTag).toBe(2)
      expect(await tagsOf(one.id)).toEqual(['hx-b'])
      expect(await tagsOf(two.id)).toEqual(['hx-b'])
      expect((await ok(RENAME, { f: 'hx-b', t: 'HX-B' })).renameTag).toBe(2)
      expect(await tagsOf(one.id)).toEqual(['HX-B'])
    })

    it('tags that collide once trimmed are one tag on a contact: counted once, renamed once', async () => {
      const contact = await createContact({ name: 'Dup', tags: ['dup-t', ' dup-t ', 'dup-t\t'] })
      // The new surface first: User.tags counts contacts, not occurrences.
      const listed = (await ok('{ me { tags { name contactCount } } }')).me.tags
      expect(listed.filter((tag: { name: string }) => tag.name === 'dup-t')).toEqual([{ name: 'dup-t', contactCount: 1 }])
      expect((await ok(RENAME, { f: 'dup-t', t: 'dup-u' })).renameTag).toBe(1)
      expect(await tagsOf(contact.id)).toEqual(['dup-u'])
    })

    it("renaming or deleting a tag never reaches another user's contacts", async () => {
      const bobs = await createContact({ name: 'Bob T', tags: ['shared-tag'] }, bob.token)
      await createContact({ name: 'Alice T', tags: ['shared-tag'] })
      expect((await ok(RENAME, { f: 'shared-tag', t: 'mine' })).renameTag).toBe(1)
      expect((await ok('mutation { deleteTag(name: "shared-tag") }')).deleteTag).toBe(0)
      expect(await tagsOf(bobs.id)).toEqual(['shared-tag'])
      const bobTags = (await ok('{ me { tags { name contactCount } } }', {}, bob.token)).me.tags
      expect(bobTags).toContainEqual({ name: 'shared-tag', contactCount: 1 })
      expect((await ok('{ me { tags { name } } }')).me.tags.map((tag: { name: string }) => tag.name)).not.toContain('shared-tag')
    })

    it('crossed concurrent renames (a->b with b->a) leave each contact with distinct tags, never an internal error', async () => {
      const both = await createContact({ name: 'X', tags: ['cx-a', 'cx-b'] })
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.all([server.query(RENAME, { f: 'cx-a', t: 'cx-b' }, alice.token), server.query(RENAME, { f: 'cx-b', t: 'cx-a' }, alice.token)])
        noInternal(results.flatMap((result) => result.errors ?? []))
        const tags = await tagsOf(both.id)
        expect(new Set(tags).size).toBe(tags.length)
      }
    })

    it('unicode tags: a renamed tag keeps NFC/NFD forms apart but never becomes text the contact input refuses', async () => {
      const contact = await createContact({ name: 'U', tags: ['café'] })
      const long = 'é'.repeat(50)
      expect((await ok(RENAME, { f: 'café', t: long })).renameTag).toBe(1)
      expect(await tagsOf(contact.id)).toEqual([long])
      // 51 code units of an astral character pair count: whatever the rule, the input and renameTag agree.
      const astral = '😀'.repeat(26)
      const viaRename = await server.query(RENAME, { f: long, t: astral }, alice.token)
      const viaInput = await server.query('mutation($i: CreateContactInput!) { createContact(input: $i) { id } }', { i: { name: 'V', tags: [astral] } }, alice.token)
      noInternal([...(viaRename.errors ?? []), ...(viaInput.errors ?? [])])
      expect(Boolean(viaRename.errors)).toBe(Boolean(viaInput.errors))
    })
  })

  describe('birthday and anniversary', () => {
    const CREATE = 'mutation($i: CreateContactInput!) { createContact(input: $i) { id birthday anniversary } }'
    it.each([
      ['0000-00-00'],
      ['--02-30'],
      ['275760-09-13'],
      ['+275760-09-13'],
      ['2021-02-29'],
      ['0999-12-31'],
      ['２０２０-01-01'],
      ['2020-01-01\u0000'],
      ['2020-1-1'],
      ['--13-01'],
      ['---01'],
      ['2020-01-01T00:00:00Z'],
      ['\ud800'],
      ['9'.repeat(100_000)],
    ])('birthday %j is BAD_USER_INPUT naming input.birthday', async (value) => {
      const errors = await errorsOf(CREATE, { i: { name: 'B', birthday: value } })
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.birthday' })
      const anniversary = await errorsOf(CREATE, { i: { name: 'B', anniversary: value } })
      expect(anniversary[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.anniversary' })
    })

    it('valid edge dates are stored as sent (trimmed); null clears on update; a refused update writes nothing', async () => {
      const contact = (await ok(CREATE, { i: { name: 'D', birthday: ' --02-29 ', anniversary: '2000-02-29' } })).createContact
      expect(contact).toMatchObject({ birthday: '--02-29', anniversary: '2000-02-29' })
      const UPDATE = 'mutation($id: ID!, $i: UpdateContactInput!) { updateContact(id: $id, input: $i) { birthday anniversary name } }'
      const refused = await errorsOf(UPDATE, { id: contact.id, i: { name: 'Changed', birthday: '1999-02-29' } })
      expect(refused[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.birthday' })
      expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: rawId(contact.id) } })).toMatchObject({ name: 'D', birthday: '--02-29' })
      expect((await ok(UPDATE, { id: contact.id, i: { birthday: null, anniversary: '9999-12-31' } })).updateContact).toMatchObject({ birthday: null, anniversary: '9999-12-31' })
    })
  })

  describe('history, filters and counts', () => {
    const HISTORY = 'query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Contact { interactions(first: $first, after: $after) { totalCount edges { cursor node { id } } pageInfo { endCursor } } } } }'

    beforeAll(async () => {
      for (const [id, token] of [
        [aliceContacts[0]!, alice.token],
        [aliceContacts[1]!, alice.token],
        [bobContacts[0]!, bob.token],
      ] as const) {
        for (const hours of [1, 2, 3]) {
          await ok(
            'mutation($id: ID!, $at: DateTime!) { logInteraction(contactId: $id, input: { kind: CALL, occurredAt: $at }) { id } }',
            { id, at: new Date(FIXTURE_NOW.getTime() - hours * 3_600_000).toISOString() },
            token,
          )
        }
      }
    })

    it("another user's contact's history is unreachable through node(id)", async () => {
      const result = await server.query(HISTORY, { id: bobContacts[0], first: 10 }, alice.token)
      expect(result.data?.node ?? null).toBeNull()
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    })

    it('a cursor of another contact, of another user, or of another list is BAD_USER_INPUT naming after', async () => {
      const page = async (id: string, token: string) => (await ok(HISTORY, { id, first: 1 }, token)).node.interactions
      const otherContact = (await page(aliceContacts[1]!, alice.token)).pageInfo.endCursor
      const otherUser = (await page(bobContacts[0]!, bob.token)).pageInfo.endCursor
      const contactsCursor = (await ok('{ contacts(first: 1) { pageInfo { endCursor } } }')).contacts.pageInfo.endCursor
      for (const after of [otherContact, otherUser, contactsCursor, `${otherContact}x`, otherContact.replace(/^./, 'A'), 'a'.repeat(5000) + '.' + 'b'.repeat(43)]) {
        const errors = await errorsOf(HISTORY, { id: aliceContacts[0], first: 1, after })
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
      }
    })

    it('first far out of range is refused before any work, never an internal error', async () => {
      for (const first of [1_000_000_000, 2_147_483_647, -2_147_483_648]) {
        const errors = await errorsOf(HISTORY, { id: aliceContacts[0], first })
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
      }
      const tooBig = await errorsOf(HISTORY, { id: aliceContacts[0], first: 2 ** 31 })
      expect(tooBig.length).toBeGreaterThan(0)
      noInternal(tooBig)
    })

    it('100 contacts of 100 interactions each, or many aliased totalCounts, are priced over the limit', async () => {
      const nested = await errorsOf('{ contacts(first: 100) { edges { node { interactions(first: 100) { totalCount edges { node { id note } } } } } } }', {})
      expect(nested[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX')
      const aliases = Array.from({ length: 200 }, (_, i) => `c${i}: contacts(first: 1) { totalCount }`).join(' ')
      expect((await errorsOf(`{ ${aliases} }`, {}))[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX')
      const tags = Array.from({ length: 200 }, (_, i) => `t${i}: tags { name contactCount }`).join(' ')
      expect((await errorsOf(`{ me { ${tags} } }`, {}))[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX')
    })

    it('a page of contacts with their history and counts reads interactions in two queries (the newest of each, the counts), not one per contact', async () => {
      // A user of its own, with enough contacts that one query per contact would show: 15 made, 13 active (i % 7 == 3 is archived).
      const carol = await createUserWithContacts(db.prisma, 'carol@example.com', 15)
      const contacts = await db.prisma.contact.findMany({ where: { userId: carol.id, archived: false }, orderBy: [{ name: 'asc' }, { id: 'asc' }] })
      expect(contacts.length).toBeGreaterThanOrEqual(10)
      // Contact k has k % 4 interactions, an hour apart: some none, some more than the page of 2 shows.
      await db.prisma.interaction.createMany({
        data: contacts.flatMap((contact, k) =>
          Array.from({ length: k % 4 }, (_, n) => ({ userId: carol.id, contactId: contact.id, kind: 'CALL' as const, occurredAt: new Date(FIXTURE_NOW.getTime() - (n + 1) * 3_600_000) })),
        ),
      })
      const newest = new Map<string, string[]>()
      for (const row of await db.prisma.interaction.findMany({ where: { userId: carol.id }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] })) {
        newest.set(row.contactId, [...(newest.get(row.contactId) ?? []), encodeGlobalID('Interaction', row.id)])
      }
      // Under the cost limit: answered in full, never refused.
      const Q = '{ contacts(first: 20) { edges { node { id interactions(first: 2) { totalCount edges { node { id } } } } } } }'
      queries.length = 0
      const data = await ok(Q, {}, carol.token)
      expect(data.contacts.edges.map((edge: { node: { id: string; interactions: { totalCount: number; edges: { node: { id: string } }[] } } }) => edge.node)).toEqual(
        contacts.map((contact, k) => ({
          id: encodeGlobalID('Contact', contact.id),
          interactions: { totalCount: k % 4, edges: (newest.get(contact.id) ?? []).slice(0, 2).map((id) => ({ node: { id } })) },
        })),
      )
      // Exactly these, once for the page: a query per contact (N+1) or a third one fails here.
      expect(queries.map(normalizeSql).filter((sql) => sql.includes('"Interaction"'))).toEqual([
        'SELECT * FROM ( SELECT i.id::text AS id, i."userId"::text AS "userId", i."contactId"::text AS "contactId", i.kind::text AS kind, i."occurredAt", i.note, i."createdAt", row_number() OVER (PARTITION BY i."contactId" ORDER BY i."occurredAt" DESC, i.id DESC) AS rank FROM "Interaction" i WHERE i."contactId" = ANY($1::uuid[]) ) ranked WHERE rank <= $2 ORDER BY "contactId", rank',
        'SELECT "contactId"::text AS "contactId", count(*)::int AS count FROM "Interaction" WHERE "contactId" = ANY($1::uuid[]) GROUP BY "contactId"',
      ])
    })

    it('totalCount counts only the viewer’s contacts under the filter, and dates past the scalar bounds are BAD_USER_INPUT', async () => {
      const count = async (filter: Record<string, unknown>, token = alice.token) =>
        (await ok('query($f: ContactFilter) { contacts(first: 1, filter: $f) { totalCount } }', { f: filter }, token)).contacts.totalCount
      const all = await db.prisma.contact.count({ where: { userId: alice.id, archived: false } })
      expect(await count({ dueBefore: '9999-12-31T23:59:59.999Z' })).toBe(await db.prisma.contact.count({ where: { userId: alice.id, archived: false, nextDueAt: { lte: new Date('9999-12-31T23:59:59.999Z') } } }))
      expect(await count({ notContactedSince: '9999-12-31T00:00:00Z' })).toBe(all)
      for (const bad of ['+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00Z\u0000']) {
        for (const key of ['dueBefore', 'notContactedSince']) {
          const errors = await errorsOf('query($f: ContactFilter) { contacts(first: 1, filter: $f) { totalCount } }', { f: { [key]: bad } })
          expect({ bad, key, code: errors[0]?.extensions?.code }).toEqual({ bad, key, code: 'BAD_USER_INPUT' })
        }
      }
    })

    it('a contacts cursor made under one dueBefore is refused under another (scope covers the filter)', async () => {
      const Q = 'query($f: ContactFilter, $after: String) { contacts(first: 1, filter: $f, after: $after) { pageInfo { endCursor } } }'
      const cursor = (await ok(Q, { f: { notContactedSince: '9999-01-01T00:00:00Z' } })).contacts.pageInfo.endCursor
      const errors = await errorsOf(Q, { f: { notContactedSince: '9998-01-01T00:00:00Z' }, after: cursor })
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    })
  })

  describe('suggestion undo and restore', () => {
    const FIELDS = 'id status'
    const sid = (contactGlobalId: string, slotHours: number | null = null) =>
      encodeGlobalID(
        'Suggestion',
        suggestionId(
          rawId(contactGlobalId),
          slotHours === null ? null : { start: new Date(FIXTURE_NOW.getTime() + slotHours * 3_600_000), end: new Date(FIXTURE_NOW.getTime() + (slotHours + 1) * 3_600_000) },
        ),
      )
    const act = (name: string, id: string, token = alice.token) => server.query(`mutation($id: ID!) { ${name}(id: $id) { ${FIELDS} } }`, { id }, token)

    it("bob cannot undo, restore or list alice's statuses", async () => {
      const id = sid(aliceContacts[2]!)
      expect((await act('dismissSuggestion', id)).errors).toBeUndefined()
      expect((await act('undoSuggestionAction', id, bob.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect((await act('restoreSuggestion', id, bob.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect((await ok('{ suggestionsByStatus(statuses: [DISMISSED]) { totalCount } }', {}, bob.token)).suggestionsByStatus.totalCount).toBe(0)
      const aliceCursor = (await ok('{ suggestionsByStatus(statuses: [DISMISSED], first: 1) { pageInfo { endCursor } } }')).suggestionsByStatus.pageInfo.endCursor
      const errors = await errorsOf('query($a: String) { suggestionsByStatus(statuses: [DISMISSED], first: 1, after: $a) { totalCount } }', { a: aliceCursor }, bob.token)
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
      const otherStatuses = await errorsOf('query($a: String) { suggestionsByStatus(statuses: [DISMISSED, SNOOZED], first: 1, after: $a) { totalCount } }', { a: aliceCursor })
      expect(otherStatuses[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
      // Still dismissed for alice.
      expect((await db.prisma.suggestion.findMany({ where: { contactId: rawId(aliceContacts[2]!) } })).map((row) => row.status)).toEqual(['DISMISSED'])
      await act('restoreSuggestion', id)
    })

    it('undo twice, undo after restore: the second is BAD_USER_INPUT naming id; nothing half-written', async () => {
      const a = sid(aliceContacts[3]!, 1)
      const b = sid(aliceContacts[3]!, 5)
      expect((await act('acceptSuggestion', a)).errors).toBeUndefined()
      expect((await act('dismissSuggestion', b)).errors).toBeUndefined()
      expect((await act('undoSuggestionAction', b)).data?.undoSuggestionAction).toMatchObject({ id: a, status: 'ACCEPTED' })
      expect((await act('undoSuggestionAction', b)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' })
      expect((await act('restoreSuggestion', a)).data?.restoreSuggestion).toMatchObject({ status: 'PENDING' })
      expect((await act('undoSuggestionAction', a)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' })
      expect(await db.prisma.suggestion.count({ where: { contactId: rawId(aliceContacts[3]!) } })).toBe(0)
    })

    it('two concurrent undos of one action: one restores, the other is BAD_USER_INPUT, never an internal error', async () => {
      const contact = aliceContacts[4]!
      for (let round = 0; round < ROUNDS; round++) {
        const a = sid(contact, 50 + round)
        const b = sid(contact, 70 + round)
        expect((await act('dismissSuggestion', a)).errors).toBeUndefined()
        expect((await act('acceptSuggestion', b)).errors).toBeUndefined()
        const results = await Promise.all([act('undoSuggestionAction', b), act('undoSuggestionAction', a)])
        noInternal(results.flatMap((result) => result.errors ?? []))
        expect(results.filter((result) => !result.errors).map((result) => result.data?.undoSuggestionAction)).toEqual([{ id: a, status: 'DISMISSED' }])
        await act('restoreSuggestion', a)
      }
    })

    it('undo racing restore: the end state is one a serial order gives (restore last: no status; undo last: nothing to undo)', async () => {
      const contact = aliceContacts[1]!
      const outcomes: { round: number; internal: boolean; leftAfterBothSucceeded: number }[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const a = sid(contact, 10 + round)
        const b = sid(contact, 30 + round)
        expect((await act('acceptSuggestion', a)).errors).toBeUndefined()
        expect((await act('dismissSuggestion', b)).errors).toBeUndefined()
        const [undo, restore] = await Promise.all([act('undoSuggestionAction', b), act('restoreSuggestion', b)])
        const codes = [...(undo.errors ?? []), ...(restore.errors ?? [])].map((error) => error.extensions?.code)
        const left = await db.prisma.suggestion.count({ where: { contactId: rawId(contact), status: { not: 'PENDING' } } })
        // Both answered success: in a serial order the restore came last, so no status may remain.
        outcomes.push({ round, internal: codes.includes('INTERNAL_SERVER_ERROR'), leftAfterBothSucceeded: codes.length === 0 ? left : 0 })
        await act('restoreSuggestion', b)
      }
      const causes = logs.lines.filter((line) => line.level >= ERROR_LEVEL).slice(-1).map((line) => line.err?.message?.split('\n').at(-1))
      expect(outcomes.filter((outcome) => outcome.internal || outcome.leftAfterBothSucceeded > 0), causes.join()).toEqual([])
    })
  })

  describe('every BAD_USER_INPUT of the new surface names its field', () => {
    const wrongType = () => aliceContacts[0]!
    it.each([
      ['updateGroup(id: contact id)', 'mutation($v: ID!) { updateGroup(id: $v, input: { name: "G" }) { id } }', wrongType],
      ['deleteGroup(id: contact id)', 'mutation($v: ID!) { deleteGroup(id: $v) }', wrongType],
      ['deleteGroup(id: junk)', 'mutation($v: ID!) { deleteGroup(id: $v) }', () => 'zzz'],
      ['undoSuggestionAction(id: contact id)', 'mutation($v: ID!) { undoSuggestionAction(id: $v) { id } }', wrongType],
      ['restoreSuggestion(id: junk)', 'mutation($v: ID!) { restoreSuggestion(id: $v) { id } }', () => '%%%'],
      ['contacts(filter.dueBefore: junk)', 'query($v: DateTime) { contacts(first: 1, filter: { dueBefore: $v }) { totalCount } }', () => 'soon'],
      ['createGroup(defaultFrequency: unknown)', 'mutation($v: FrequencyPreference) { createGroup(name: "F", defaultFrequency: $v) { id } }', () => 'HOURLY'],
    ])('%s', async (_label, query, value) => {
      const errors = await errorsOf(query, { v: value() })
      expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT')
      expect(errors[0]?.extensions?.field).toEqual(expect.any(String))
    })
  })

  describe('POST /dev/token', () => {
    const mint = (body: unknown, key: string | null = TEST_SERVER_SECRET_KEY) =>
      fetch(new URL('/dev/token', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-secret-key': key }) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })

    it('refuses a wrong, missing or oversized key with 403, a bad body with 400, and never answers 500', async () => {
      expect((await mint({ user: 'alice@example.com' }, 'nope')).status).toBe(403)
      expect((await mint({ user: 'alice@example.com' }, null)).status).toBe(403)
      expect((await mint({ user: 'alice@example.com' }, 'k'.repeat(8000))).status).toBe(403)
      for (const body of ['{', '[]', 'null', JSON.stringify({ user: 5 }), JSON.stringify({ user: 'x'.repeat(5000) }), JSON.stringify({ user: 'not an email' }), JSON.stringify({ user: 'a\u0000@example.com' })]) {
        const response = await mint(body)
        expect({ body: body.slice(0, 40), status: response.status }).toEqual({ body: body.slice(0, 40), status: 400 })
      }
    })

    it('a token name with a NUL character or a lone surrogate is 400 BAD_USER_INPUT, not 500', async () => {
      for (const name of ['cli\u0000', '\ud800']) {
        const response = await mint({ user: 'dev-nul@example.com', name })
        const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] }
        expect({ name, status: response.status, code: body.errors?.[0]?.extensions?.code }).toEqual({ name, status: 400, code: 'BAD_USER_INPUT' })
      }
    })

    it('a minted token is a working token of that user only', async () => {
      const response = await mint({ user: ' Alice@Example.com ', name: 'probe' })
      expect(response.status).toBe(200)
      const { token } = (await response.json()) as { token: string }
      expect((await ok('{ me { email } }', {}, token)).me.email).toBe('alice@example.com')
    })
  })
})
