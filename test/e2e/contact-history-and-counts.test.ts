/**
 * The contacts list and the contact page of issue 13 (items 3 and 5): `totalCount` equals the rows
 * the pages give for each filter (the new `dueBefore` and `notContactedSince` included), and is only
 * counted when selected; a contact's interactions come newest first across pages; birthdays and
 * anniversaries are taken as `YYYY-MM-DD` or `--MM-DD` and refused otherwise, naming the field.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DAY_MS } from '../../src/time.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { normalizeSql } from '../helpers/recorded-sql.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)('contact counts, filters, history and dates on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  const queries: string[] = []

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => queries.push(sql) })
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 45)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 5)
    server = await startTestServer(db, { clock: { now: () => new Date(FIXTURE_NOW) } })
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
  const errorOf = async (query: string, variables: Record<string, unknown>) => (await server.query(query, variables, alice.token)).errors?.[0]?.extensions

  /** Every page of `contacts` (7 a page) with `filter` and `orderBy`, and the first page's totalCount. */
  async function walk(filter: Record<string, unknown> | undefined, orderBy?: Record<string, unknown>): Promise<{ ids: string[]; totalCount: number }> {
    const ids: string[] = []
    let after: string | null = null
    let totalCount = -1
    for (;;) {
      const page: Record<string, any> = (
        await ok(
          `query($f: ContactFilter, $o: ContactOrder, $after: String) { contacts(first: 7, filter: $f, orderBy: $o, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
          { f: filter, o: orderBy, after },
        )
      ).contacts
      if (totalCount < 0) totalCount = page.totalCount
      ids.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id))
      if (!page.pageInfo.hasNextPage) return { ids, totalCount }
      after = page.pageInfo.endCursor
    }
  }

  it('totalCount equals the rows across pages for each filter, and dueBefore / notContactedSince filter as documented', async () => {
    const soon = new Date(FIXTURE_NOW.getTime() + 10 * DAY_MS).toISOString()
    const since = new Date(FIXTURE_NOW.getTime() - 10 * DAY_MS)
    const filters: (Record<string, unknown> | undefined)[] = [
      undefined,
      { archived: true },
      { tag: 'friend' },
      { circle: 'INNER' },
      { group: encodeGlobalID('Group', alice.groupIds[1]!) },
      { search: 'ada' },
      { dueBefore: FIXTURE_NOW.toISOString() },
      { dueBefore: soon, tag: 'work' },
      { notContactedSince: since.toISOString() },
      { notContactedSince: since.toISOString(), search: 'a', dueBefore: soon },
    ]
    for (const filter of filters) {
      const { ids, totalCount } = await walk(filter, { field: 'NEXT_DUE_AT' })
      expect(totalCount, JSON.stringify(filter)).toBe(ids.length)
      expect(new Set(ids).size).toBe(ids.length)
    }
    const rows = await db.prisma.contact.findMany({ where: { userId: alice.id, archived: false } })
    const overdue = (await walk({ dueBefore: FIXTURE_NOW.toISOString() })).ids
    expect(overdue.length).toBeGreaterThan(0)
    expect(overdue.sort()).toEqual(rows.filter((row) => row.nextDueAt <= FIXTURE_NOW).map((row) => encodeGlobalID('Contact', row.id)).sort())
    const quiet = (await walk({ notContactedSince: since.toISOString() })).ids
    expect(quiet.sort()).toEqual(
      rows.filter((row) => row.lastContactDate === null || row.lastContactDate < since).map((row) => encodeGlobalID('Contact', row.id)).sort(),
    )
    expect(quiet.length).toBeGreaterThan(0)
    expect(quiet.length).toBeLessThan(rows.length)
  })

  it('counts only when totalCount is selected', async () => {
    queries.length = 0
    await ok('{ contacts(first: 3) { edges { node { id } } } }')
    expect(queries.filter((sql) => /count\(/i.test(sql))).toEqual([])
    await ok('{ contacts(first: 3) { totalCount } }')
    expect(queries.filter((sql) => /count\(/i.test(sql))).toHaveLength(1)
  })

  it('reads member counts, tags and the groups behind every cadence of a page in one query each (no N+1)', async () => {
    // The third fixture group holds the fixture's contacts without a frequency of their own (i % 6 == 4).
    await ok('mutation($id: ID!) { updateGroup(id: $id, input: { defaultFrequency: MONTHLY }) { id } }', { id: encodeGlobalID('Group', alice.groupIds[2]!) })
    queries.length = 0
    const data = await ok('{ me { groups { name memberCount } tags { name contactCount } } contacts(first: 45) { edges { node { cadence { source rule group { name } } } } } }')
    expect(data.me.groups).toHaveLength(3)
    expect(data.contacts.edges.some((edge: { node: { cadence: { source: string } } }) => edge.node.cadence.source === 'GROUP')).toBe(true)
    // Exactly these, in either order (`me` and `contacts` resolve side by side): the groups twice, for `me` and
    // behind the cadences (once for the page). Not shared: `me.groups` is a relation Prisma loads with the user,
    // the cadences' are a per-turn load made once the page is read, turns later.
    const GROUPS = 'SELECT … FROM "Group" WHERE "Group"."userId" = $1 ORDER BY "Group"."name" ASC, "Group"."id" ASC OFFSET $2'
    expect(queries.map(normalizeSql).sort()).toEqual(
      [
        'SELECT … FROM "AuthToken" WHERE ("AuthToken"."tokenHash" = $1 AND 1=1) LIMIT $2 OFFSET $3',
        'SELECT … FROM "User" WHERE ("User"."id" = $1 AND 1=1) LIMIT $2 OFFSET $3',
        GROUPS,
        'SELECT g.id::text AS id, count(*)::int AS count FROM "Contact" c CROSS JOIN LATERAL unnest(c."groupIds") AS g(id) WHERE c."userId" = $1::uuid AND NOT c.archived GROUP BY g.id',
        'SELECT t.name, (count(DISTINCT c.id) FILTER (WHERE NOT c.archived))::int AS "contactCount" FROM "Contact" c CROSS JOIN LATERAL unnest(c.tags) AS t(name) WHERE c."userId" = $1::uuid GROUP BY t.name ORDER BY t.name LIMIT $2',
        'SELECT … FROM "Contact" WHERE ("Contact"."userId" = $1 AND "Contact"."archived" = $2) ORDER BY "Contact"."name" ASC, "Contact"."id" ASC LIMIT $3 OFFSET $4',
        GROUPS,
      ].sort(),
    )
  })

  it("lists a contact's interactions newest first across pages, with totalCount; only the owner sees them", async () => {
    const contact = (await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id, archived: false } })).id
    const id = encodeGlobalID('Contact', contact)
    // Two at the same instant: the id breaks the tie.
    const times = [40, 5, 12, 12, 30, 1, 22].map((days) => new Date(FIXTURE_NOW.getTime() - days * DAY_MS).toISOString())
    for (const [index, occurredAt] of times.entries()) {
      await ok('mutation($id: ID!, $input: LogInteractionInput) { logInteraction(contactId: $id, input: $input) { id } }', { id, input: { occurredAt, kind: 'CALL', note: `note ${index}` } })
    }
    const seen: { occurredAt: string; note: string; id: string }[] = []
    let after: string | null = null
    let totalCount = -1
    for (;;) {
      const page: Record<string, any> = (
        await ok(`query($id: ID!, $after: String) { node(id: $id) { ... on Contact { interactions(first: 3, after: $after) { totalCount edges { node { id kind note occurredAt } } pageInfo { hasNextPage endCursor } } } } }`, { id, after })
      ).node.interactions
      totalCount = page.totalCount
      seen.push(...page.edges.map((edge: { node: { id: string; occurredAt: string; note: string } }) => edge.node))
      if (!page.pageInfo.hasNextPage) break
      after = page.pageInfo.endCursor
    }
    expect(totalCount).toBe(times.length)
    expect(seen.map((row) => row.occurredAt)).toEqual([...times].sort().reverse())
    expect(new Set(seen.map((row) => row.id)).size).toBe(times.length)
    const tied = seen.filter((row) => row.occurredAt === times[2]).map((row) => Buffer.from(row.id, 'base64').toString())
    expect(tied).toHaveLength(2)
    expect(tied).toEqual([...tied].sort().reverse())

    const HISTORY = 'query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Contact { interactions(first: $first, after: $after) { edges { cursor } } } } }'
    expect(await errorOf(HISTORY, { id, first: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
    expect(await errorOf(HISTORY, { id, first: 101 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
    expect(await errorOf(HISTORY, { id, after: 'garbage' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    const other = encodeGlobalID('Contact', (await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id, id: { not: contact } } })).id)
    expect(await errorOf(HISTORY, { id: other, after })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    // Bob cannot read Alice's contact, so nor its history.
    expect((await server.query(HISTORY, { id }, bob.token)).data?.node ?? null).toBeNull()
  })

  it('takes birthdays and anniversaries as YYYY-MM-DD or --MM-DD, clears them with null, refuses anything else naming the field', async () => {
    const created = (await ok('mutation { createContact(input: { name: "Dee", birthday: "1985-04-15", anniversary: "--02-29" }) { id birthday anniversary } }')).createContact
    expect(created).toMatchObject({ birthday: '1985-04-15', anniversary: '--02-29' })
    const UPDATE = 'mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { birthday anniversary } }'
    expect((await ok(UPDATE, { id: created.id, input: { anniversary: '2010-06-30' } })).updateContact).toEqual({ birthday: '1985-04-15', anniversary: '2010-06-30' })
    expect((await ok(UPDATE, { id: created.id, input: { birthday: null } })).updateContact).toEqual({ birthday: null, anniversary: '2010-06-30' })
    for (const bad of ['2023-02-29', '1985-13-01', '--04-31', '15.04.1985', '0999-01-01', '1985-4-15', '']) {
      for (const field of ['birthday', 'anniversary']) {
        expect(await errorOf(UPDATE, { id: created.id, input: { [field]: bad } }), `${field} ${bad}`).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.${field}` })
        expect(await errorOf('mutation($input: CreateContactInput!) { createContact(input: $input) { id } }', { input: { name: 'E', [field]: bad } })).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: `input.${field}`,
        })
      }
    }
  })
})
