/**
 * Issue 10, kind 13 (c): per-user quotas on contacts, groups and calendar
 * events, refused with QUOTA_EXCEEDED and `extensions.limit`, exact under
 * concurrent creates, kept by a counter on the user's row (no count(*)).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const LIMITS = { MAX_CONTACTS_PER_USER: '3', MAX_GROUPS_PER_USER: '2', MAX_CALENDAR_EVENTS_PER_USER: '2' }

describe.each(kinds)('per-user quotas on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db, { env: LIMITS })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `quota${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }
  const createContact = (token: string, name: string) => server.query('mutation($n: String!) { createContact(input: { name: $n }) { id } }', { n: name }, token)
  const createGroup = (token: string, name: string) => server.query('mutation($n: String!) { createGroup(name: $n) { id } }', { n: name }, token)
  const addEvent = (token: string, day: number) =>
    server.query<{ addCalendarEvent: { id: string } }>(
      'mutation($s: DateTime!, $e: DateTime!) { addCalendarEvent(input: { startsAt: $s, endsAt: $e }) { id } }',
      { s: new Date(Date.UTC(2030, 0, day, 10)).toISOString(), e: new Date(Date.UTC(2030, 0, day, 11)).toISOString() },
      token,
    )

  it('refuses the contact past MAX_CONTACTS_PER_USER with QUOTA_EXCEEDED and the limit, for that user only', async () => {
    const alice = await newUser()
    const bob = await newUser()
    for (let i = 0; i < 3; i++) expect((await createContact(alice.token, `c${i}`)).errors).toBeUndefined()
    const refused = await createContact(alice.token, 'one too many')
    expect(refused.data).toBeNull()
    expect(refused.errors).toEqual([
      expect.objectContaining({ message: 'Quota reached: at most 3 contacts per user', extensions: { code: 'QUOTA_EXCEEDED', limit: 3, resource: 'contacts' } }),
    ])
    expect(await db.prisma.contact.count({ where: { userId: alice.id } })).toBe(3)
    expect((await createContact(bob.token, 'fine')).errors).toBeUndefined()
  })

  it('is exact under concurrent creates: ten at once, three succeed', async () => {
    const carol = await newUser()
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => createContact(carol.token, `c${i}`)))
    expect(results.filter((r) => !r.errors)).toHaveLength(3)
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'QUOTA_EXCEEDED')).toHaveLength(7)
    expect(await db.prisma.contact.count({ where: { userId: carol.id } })).toBe(3)
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: carol.id } })).contactCount).toBe(3)
  })

  it('refuses the group past MAX_GROUPS_PER_USER', async () => {
    const dave = await newUser()
    expect((await createGroup(dave.token, 'a')).errors).toBeUndefined()
    expect((await createGroup(dave.token, 'b')).errors).toBeUndefined()
    expect((await createGroup(dave.token, 'c')).errors?.[0]?.extensions).toEqual({ code: 'QUOTA_EXCEEDED', limit: 2, resource: 'groups' })
    // A refused duplicate name takes nothing.
    expect((await createGroup(dave.token, 'a')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(await db.prisma.group.count({ where: { userId: dave.id } })).toBe(2)
  })

  it('refuses the calendar event past MAX_CALENDAR_EVENTS_PER_USER, and a removal gives its place back', async () => {
    const erin = await newUser()
    const first = await addEvent(erin.token, 1)
    expect(first.errors).toBeUndefined()
    expect((await addEvent(erin.token, 2)).errors).toBeUndefined()
    expect((await addEvent(erin.token, 3)).errors?.[0]?.extensions).toEqual({ code: 'QUOTA_EXCEEDED', limit: 2, resource: 'calendarEvents' })
    const removed = await server.query('mutation($id: ID!) { removeCalendarEvent(id: $id) }', { id: first.data!.addCalendarEvent.id }, erin.token)
    expect(removed.errors).toBeUndefined()
    // Removing what is not there gives nothing back.
    expect((await server.query('mutation($id: ID!) { removeCalendarEvent(id: $id) }', { id: first.data!.addCalendarEvent.id }, erin.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect((await addEvent(erin.token, 3)).errors).toBeUndefined()
    expect((await addEvent(erin.token, 4)).errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED')
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: erin.id } })).calendarEventCount).toBe(2)
  })
})
