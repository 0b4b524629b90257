import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { normalizeSql } from '../helpers/recorded-sql.ts'
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay'

const kinds = await availableDatabaseKinds()

const CONTACTS = /* GraphQL */ `
  query Contacts($first: Int, $after: String, $filter: ContactFilter, $orderBy: ContactOrder) {
    contacts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      edges { cursor node { id name email archived tags dunbarCircle lastContactDate nextDueAt groups { id name } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`

type Edge = { cursor: string; node: { id: string; name: string; tags: string[]; archived: boolean; dunbarCircle: string | null; groups: { id: string; name: string }[] } }
type ContactsData = { contacts: { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }

describe.each(kinds)('contacts API on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  const queries: string[] = []

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onQuery: (sql) => queries.push(sql) })
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 130)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 40)
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function allPages(token: string, variables: Record<string, unknown>) {
    const nodes: Edge['node'][] = []
    let after: string | null = null
    for (let page = 0; page < 100; page++) {
      const result: GraphQLResponse<ContactsData> = await server.query<ContactsData>(CONTACTS, { ...variables, after }, token)
      expect(result.errors).toBeUndefined()
      const connection: ContactsData['contacts'] = result.data!.contacts
      nodes.push(...connection.edges.map((edge) => edge.node))
      if (!connection.pageInfo.hasNextPage) return nodes
      after = connection.pageInfo.endCursor
    }
    throw new Error('did not finish')
  }

  async function idsInOrder(userId: string, order: string, where = 'AND NOT archived') {
    const rows = await db.query<{ id: string }>(`SELECT id FROM "Contact" WHERE "userId" = $1 ${where} ORDER BY ${order}`, [userId])
    return rows.map((row) => row.id)
  }

  it('answers me with the signed-in user', async () => {
    const result = await server.query('{ me { id email } }', {}, alice.token)
    expect(result.data).toMatchObject({ me: { email: 'alice@example.com' } })
  })

  it.each([
    ['no token', undefined],
    ['an unknown token', 'prm_nope'],
    ['a malformed token', 'garbage'],
  ])('refuses %s with UNAUTHENTICATED', async (_label, token) => {
    for (const query of ['{ me { id } }', '{ contacts { edges { cursor } } }', '{ node(id: "Q29udGFjdDox") { id } }']) {
      const result = await server.query(query, {}, token)
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true)
    }
  })

  it('pages through every contact by name with first/after, in keyset order', async () => {
    const nodes = await allPages(alice.token, { first: 17 })
    expect(nodes.map((node) => decodeGlobalID(node.id).id)).toEqual(
      await idsInOrder(alice.id, 'name, id'),
    )
  })

  it('orders by nextDueAt descending when asked', async () => {
    const nodes = await allPages(alice.token, { first: 50, orderBy: { field: 'NEXT_DUE_AT', direction: 'DESC' } })
    expect(nodes.map((node) => decodeGlobalID(node.id).id)).toEqual(
      await idsInOrder(alice.id, '"nextDueAt" DESC, id DESC'),
    )
  })

  it('filters by circle, group, tag, search and archived', async () => {
    const byCircle = await allPages(alice.token, { filter: { circle: 'INNER' } })
    expect(byCircle.length).toBeGreaterThan(0)
    expect(byCircle.every((node) => node.dunbarCircle === 'INNER')).toBe(true)

    const groupId = encodeGlobalID('Group', alice.groupIds[1]!)
    const byGroup = await allPages(alice.token, { filter: { group: groupId } })
    expect(byGroup.length).toBe(
      (await idsInOrder(alice.id, 'id', `AND NOT archived AND '${alice.groupIds[1]}'::uuid = ANY("groupIds")`)).length,
    )
    expect(byGroup.every((node) => node.groups.some((group) => group.id === groupId))).toBe(true)

    const byTag = await allPages(alice.token, { filter: { tag: 'mentor' } })
    expect(byTag.length).toBeGreaterThan(0)
    expect(byTag.every((node) => node.tags.includes('mentor'))).toBe(true)

    const bySearch = await allPages(alice.token, { filter: { search: 'gRaCe 0' } })
    expect(bySearch.length).toBeGreaterThan(0)
    expect(bySearch.every((node) => /^Grace 0/.test(node.name))).toBe(true)

    const archived = await allPages(alice.token, { filter: { archived: true } })
    expect(archived.length).toBe((await idsInOrder(alice.id, 'id', 'AND archived')).length)
    expect(archived.every((node) => node.archived)).toBe(true)
  })

  it('loads a page with its groups in a fixed list of queries (no N+1)', async () => {
    // The token's hourly lastUsedAt write is done by this first request, so the one recorded is the same whatever ran before.
    await server.query('{ me { id } }', {}, alice.token)
    queries.length = 0
    const result = await server.query<ContactsData>(CONTACTS, { first: 100 }, alice.token)
    expect(result.data!.contacts.edges).toHaveLength(100)
    expect(result.data!.contacts.edges.some((edge) => edge.node.groups.length > 0)).toBe(true)
    // Exactly: the token lookup, one contacts page, the viewer's groups (once, not once per contact).
    expect(queries.map(normalizeSql)).toEqual([
      'SELECT … FROM "AuthToken" WHERE ("AuthToken"."tokenHash" = $1 AND 1=1) LIMIT $2 OFFSET $3',
      'SELECT … FROM "Contact" WHERE ("Contact"."userId" = $1 AND "Contact"."archived" = $2) ORDER BY "Contact"."name" ASC, "Contact"."id" ASC LIMIT $3 OFFSET $4',
      'SELECT … FROM "Group" WHERE "Group"."userId" = $1 ORDER BY "Group"."name" ASC, "Group"."id" ASC OFFSET $2',
    ])
  })

  it("isolates users: bob's contacts, groups and user never reach alice", async () => {
    const aliceSees = await allPages(alice.token, { first: 200 })
    const bobContactIds = new Set(await idsInOrder(bob.id, 'id', ''))
    expect(aliceSees.some((node) => bobContactIds.has(decodeGlobalID(node.id).id))).toBe(false)

    const bobContact = (await allPages(bob.token, { first: 1 }))[0]!
    const ownContact = aliceSees[0]!
    const own = await server.query('query($id: ID!) { node(id: $id) { id ... on Contact { name } } }', { id: ownContact.id }, alice.token)
    expect(own.data).toEqual({ node: { id: ownContact.id, name: ownContact.name } })

    const bobUser = (await server.query<{ me: { id: string } }>('{ me { id } }', {}, bob.token)).data!.me.id
    const bobGroup = encodeGlobalID('Group', bob.groupIds[0]!)
    const missing = encodeGlobalID('Contact', '00000000-0000-4000-8000-000000000000')
    const answers = []
    for (const id of [bobContact.id, bobUser, bobGroup, missing]) {
      const result = await server.query('query($id: ID!) { node(id: $id) { id } }', { id }, alice.token)
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect(result.data).toEqual({ node: null })
      answers.push(result.errors?.[0]?.message)
    }
    expect(new Set(answers).size).toBe(1) // another user's object looks exactly like a missing one

    const filtered = await server.query<ContactsData>(CONTACTS, { filter: { group: bobGroup } }, alice.token)
    expect(filtered.data!.contacts.edges).toEqual([])
  })

  it.each([0, 1001, -5])('rejects first: %s with BAD_USER_INPUT naming the argument', async (first) => {
    const result = await server.query(CONTACTS, { first }, alice.token)
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
  })

  it('rejects a bad cursor with BAD_USER_INPUT naming `after`', async () => {
    const result = await server.query(CONTACTS, { after: 'bogus' }, alice.token)
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    const cursor = (await server.query<ContactsData>(CONTACTS, { first: 2 }, alice.token)).data!.contacts.pageInfo.endCursor
    const mismatched = await server.query(CONTACTS, { after: cursor, orderBy: { field: 'NEXT_DUE_AT' } }, alice.token)
    expect(mismatched.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
  })

  it.each([
    ['not-base64!', 'BAD_USER_INPUT'],
    [Buffer.from('Contact').toString('base64'), 'BAD_USER_INPUT'],
    [encodeGlobalID('Nope', '1'), 'NOT_FOUND'],
    [encodeGlobalID('Contact', '1'), 'NOT_FOUND'],
  ])('answers node(id: %s) with %s, without a stack trace', async (id, code) => {
    const result = await server.query('query($id: ID!) { node(id: $id) { id } }', { id }, alice.token)
    expect(result.errors?.[0]?.extensions?.code).toBe(code)
    expect(JSON.stringify(result)).not.toMatch(/\.ts:\d+|node_modules|stack/)
  })

  it.each([
    [encodeGlobalID('Contact', '1'), 'BAD_USER_INPUT'],
    [encodeGlobalID('Group', '1'), 'BAD_USER_INPUT'],
  ])('rejects the group filter %s with %s', async (group, code) => {
    const result = await server.query(CONTACTS, { filter: { group } }, alice.token)
    expect(result.errors?.[0]?.extensions?.code).toBe(code)
  })

  it('masks unexpected errors: no message, stack or SQL reaches the client', async () => {
    const failing = await startTestServer({
      ...db,
      prisma: new Proxy(db.prisma, {
        get(target, property, receiver) {
          if (property === 'contact') {
            return { findMany: () => Promise.reject(new Error('relation "secret_table" does not exist: SELECT * FROM secret_table')) }
          }
          return Reflect.get(target, property, receiver)
        },
      }),
    })
    try {
      const result = await failing.query(CONTACTS, {}, alice.token)
      expect(result.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })
      expect(result.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String))
      expect(JSON.stringify(result)).not.toMatch(/secret_table|SELECT|stack/)
    } finally {
      await failing.close()
    }
  })

  it('serves GraphiQL to a browser, with the demo token in its headers', async () => {
    const withToken = await startTestServer(db, { demoToken: alice.token })
    try {
      const response = await fetch(withToken.url, { headers: { accept: 'text/html' } })
      expect(response.status).toBe(200)
      const html = await response.text()
      expect(html).toContain('GraphiQL')
      expect(html).toContain(alice.token)
      expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr/) // bundled: works without internet
    } finally {
      await withToken.close()
    }
  })

  it('speaks GraphQL over HTTP GET too', async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent('{ me { email } }')}`, {
      headers: { authorization: `Bearer ${alice.token}`, accept: 'application/graphql-response+json' },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ data: { me: { email: 'alice@example.com' } } })
  })
})
