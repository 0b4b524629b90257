import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { sseResults } from '../helpers/clients.ts'

const kinds = await availableDatabaseKinds()

describe.each(kinds)('mutations on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 30)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 10)
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  const code = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions

  it('creates a group once when the same name is sent many times at once (the rest: BAD_USER_INPUT, not an internal error)', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => server.query('mutation { createGroup(name: "Raced") { id } }', {}, alice.token)),
    )
    expect(results.filter((result) => result.data?.createGroup)).toHaveLength(1)
    for (const result of results.filter((r) => r.errors)) expect(code(result)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
  })

  it('creates and updates a contact, keeping nextDueAt right', async () => {
    const created = await server.query(
      `mutation($input: CreateContactInput!) { createContact(input: $input) { id name timezone lastContactDate nextDueAt dunbarCircle } }`,
      { input: { name: ' Ada Lovelace ', email: 'ada@example.com', timezone: 'Europe/London', dunbarCircle: 'INNER', frequencyPreference: 'MONTHLY', lastContactDate: '2026-11-01T10:00:00.000Z' } },
      alice.token,
    )
    expect(created.errors).toBeUndefined()
    const contact = created.data!.createContact
    expect(contact).toMatchObject({ name: 'Ada Lovelace', nextDueAt: '2026-12-01T10:00:00.000Z' })
    const updated = await server.query(
      `mutation($id: ID!) { updateContact(id: $id, input: { frequencyPreference: WEEKLY }) { nextDueAt } }`,
      { id: contact.id },
      alice.token,
    )
    expect(updated.data!.updateContact.nextDueAt).toBe('2026-11-08T10:00:00.000Z')
    // null is GraphQL's "clear" for tags, and "the default" for an interaction's time and kind.
    const tagged = await server.query(`mutation($id: ID!) { updateContact(id: $id, input: { tags: ["chess"] }) { tags } }`, { id: contact.id }, alice.token)
    expect(tagged.data!.updateContact.tags).toEqual(['chess'])
    const cleared = await server.query(`mutation($id: ID!) { updateContact(id: $id, input: { tags: null }) { tags } }`, { id: contact.id }, alice.token)
    expect(cleared.data!.updateContact.tags).toEqual([])
    const touched = await server.query(`mutation($id: ID!) { logInteraction(contactId: $id, input: { occurredAt: null, kind: null }) { lastContactDate } }`, { id: contact.id }, alice.token)
    expect(Date.now() - Date.parse(touched.data!.logInteraction.lastContactDate)).toBeLessThan(60_000)
  })

  it.each([
    [{ name: '' }, 'input.name'],
    [{ name: 'x', email: 'not-an-email' }, 'input.email'],
    [{ name: 'x', timezone: 'Mars/Base' }, 'input.timezone'],
    [{ name: 'x', instagram: 'has spaces in it' }, 'input.instagram'],
    [{ name: 'x'.repeat(201) }, 'input.name'],
    [{ name: 'x', lastContactDate: '2999-01-01T00:00:00Z' }, 'input.lastContactDate'],
  ])('rejects createContact %j with BAD_USER_INPUT on %s', async (input, field) => {
    const result = await server.query(`mutation($input: CreateContactInput!) { createContact(input: $input) { id } }`, { input }, alice.token)
    expect(code(result)).toMatchObject({ code: 'BAD_USER_INPUT', field })
  })

  it('logInteraction moves lastContactDate and nextDueAt, never backwards', async () => {
    const [contact] = await db.prisma.contact.findMany({ where: { userId: alice.id, frequencyPreference: 'MONTHLY', archived: false }, take: 1 })
    const occurredAt = new Date(Date.now() - 60_000).toISOString()
    const result = await server.query(
      `mutation($id: ID!, $at: DateTime) { logInteraction(contactId: $id, input: { occurredAt: $at, kind: CALL }) { lastContactDate nextDueAt } }`,
      { id: encodeGlobalID('Contact', contact!.id), at: occurredAt },
      alice.token,
    )
    expect(result.data!.logInteraction.lastContactDate).toBe(occurredAt)
    expect(new Date(result.data!.logInteraction.nextDueAt).getTime()).toBe(new Date(occurredAt).getTime() + 30 * 86_400_000)
    const older = await server.query(
      `mutation($id: ID!) { logInteraction(contactId: $id, input: { occurredAt: "2020-01-01T00:00:00Z" }) { lastContactDate } }`,
      { id: encodeGlobalID('Contact', contact!.id) },
      alice.token,
    )
    expect(older.data!.logInteraction.lastContactDate).toBe(occurredAt)
    // Writes ask the jobs to regenerate the user's stored suggestions (deduplicated, in-process here).
    await vi.waitFor(async () => expect(await db.prisma.suggestion.count({ where: { userId: alice.id, status: 'PENDING' } })).toBeGreaterThan(0), { timeout: 30_000, interval: 200 })
    expect(await db.prisma.interaction.count({ where: { contactId: contact!.id } })).toBe(2)
  })

  it("gives NOT_FOUND for another user's ids, and changes nothing", async () => {
    const [bobContact] = await db.prisma.contact.findMany({ where: { userId: bob.id }, take: 1 })
    const before = await db.prisma.contact.findUniqueOrThrow({ where: { id: bobContact!.id } })
    const id = encodeGlobalID('Contact', bobContact!.id)
    for (const [mutation, variables] of [
      ['mutation($id: ID!) { updateContact(id: $id, input: { name: "hacked" }) { id } }', { id }],
      ['mutation($id: ID!) { archiveContact(id: $id) { id } }', { id }],
      ['mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id }],
      ['mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { id } }', { id, g: [] }],
      ['mutation($id: ID!) { dismissSuggestion(id: $id) { id } }', { id: encodeGlobalID('Suggestion', suggestionId(bobContact!.id, null)) }],
      ['mutation($id: ID!) { acceptSuggestion(id: $id) { id } }', { id: encodeGlobalID('Suggestion', suggestionId(bobContact!.id, null)) }],
      ['mutation($id: ID!) { snoozeSuggestion(id: $id, until: "2999-01-01T00:00:00Z") { id } }', { id: encodeGlobalID('Suggestion', suggestionId(bobContact!.id, null)) }],
      ['query($id: ID!) { node(id: $id) { id } }', { id }],
    ] as const) {
      expect(code(await server.query(mutation, variables, alice.token))?.code, mutation).toBe('NOT_FOUND')
    }
    const [aliceContact] = await db.prisma.contact.findMany({ where: { userId: alice.id }, take: 1 })
    const foreignGroup = await server.query(
      'mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { id } }',
      { id: encodeGlobalID('Contact', aliceContact!.id), g: [encodeGlobalID('Group', bob.groupIds[0]!)] },
      alice.token,
    )
    expect(code(foreignGroup)?.code).toBe('NOT_FOUND')
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: bobContact!.id } })).toEqual(before)
    expect(await db.prisma.suggestion.count({ where: { contactId: bobContact!.id } })).toBe(0)
  })

  it('sets groups, availability and calendar events, with validation', async () => {
    const group = await server.query('mutation { createGroup(name: "Board games") { id name } }', {}, alice.token)
    expect(group.data!.createGroup.name).toBe('Board games')
    expect(code(await server.query('mutation { createGroup(name: "Board games") { id } }', {}, alice.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    const [contact] = await db.prisma.contact.findMany({ where: { userId: alice.id }, take: 1 })
    const grouped = await server.query(
      'mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { groups { name } } }',
      { id: encodeGlobalID('Contact', contact!.id), g: [group.data!.createGroup.id] },
      alice.token,
    )
    expect(grouped.data!.setContactGroups.groups).toEqual([{ name: 'Board games' }])
    // The viewer's groups, for filters; never another user's.
    expect((await server.query('{ me { groups { name } } }', {}, alice.token)).data!.me.groups).toContainEqual({ name: 'Board games' })
    expect((await server.query('{ me { groups { name } } }', {}, bob.token)).data!.me.groups).not.toContainEqual({ name: 'Board games' })

    const windows = await server.query(
      'mutation { setAvailability(timezone: "Europe/Berlin", windows: [{ weekday: 1, startMinute: 1080, endMinute: 1260 }]) { weekday startMinute endMinute } }',
      {},
      alice.token,
    )
    expect(windows.data!.setAvailability).toEqual([{ weekday: 1, startMinute: 1080, endMinute: 1260 }])
    const badWindow = await server.query('mutation { setAvailability(windows: [{ weekday: 8, startMinute: 0, endMinute: 10 }]) { weekday } }', {}, alice.token)
    expect(code(badWindow)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'windows.0.weekday' })
    const badZone = await server.query('mutation { setAvailability(timezone: "Nowhere", windows: []) { weekday } }', {}, alice.token)
    expect(code(badZone)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'timezone' })

    const event = await server.query(
      'mutation { addCalendarEvent(input: { title: "Dentist", startsAt: "2026-12-01T09:00:00Z", endsAt: "2026-12-01T10:00:00Z" }) { id title } }',
      {},
      alice.token,
    )
    expect(event.data!.addCalendarEvent.title).toBe('Dentist')
    const backwards = await server.query('mutation { addCalendarEvent(input: { startsAt: "2026-12-01T10:00:00Z", endsAt: "2026-12-01T09:00:00Z" }) { id } }', {}, alice.token)
    expect(code(backwards)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endsAt' })
    expect(code(await server.query('mutation($id: ID!) { removeCalendarEvent(id: $id) }', { id: event.data!.addCalendarEvent.id }, bob.token))?.code).toBe('NOT_FOUND')
    expect((await server.query('mutation($id: ID!) { removeCalendarEvent(id: $id) }', { id: event.data!.addCalendarEvent.id }, alice.token)).data).toEqual({ removeCalendarEvent: true })
  })

  it('accepts, dismisses and snoozes suggestions; the engine then leaves those contacts out', async () => {
    const suggestions = async () => {
      const query = 'subscription { suggestions(input: { maxSuggestions: 10, slots: [], live: false }) { ... on SuggestionBatch { suggestions { id status contact { id } } } } }'
      const payloads = await sseResults<{ suggestions: { suggestions?: { id: string; status: string; contact: { id: string } }[] } }>(server.url, { query }, alice.token)
      return payloads.flatMap((payload) => payload.data!.suggestions.suggestions ?? [])
    }
    const before = await suggestions()
    expect(before.every((s) => s.status === 'PENDING')).toBe(true)
    const [a, b, c] = before
    expect((await server.query('mutation($id: ID!) { acceptSuggestion(id: $id) { id status } }', { id: a!.id }, alice.token)).data).toEqual({ acceptSuggestion: { id: a!.id, status: 'ACCEPTED' } })
    expect((await server.query('mutation($id: ID!) { dismissSuggestion(id: $id) { status } }', { id: b!.id }, alice.token)).data).toEqual({ dismissSuggestion: { status: 'DISMISSED' } })
    const until = new Date(Date.now() + 86_400_000).toISOString()
    expect((await server.query('mutation($id: ID!, $u: DateTime!) { snoozeSuggestion(id: $id, until: $u) { status } }', { id: c!.id, u: until }, alice.token)).data).toEqual({ snoozeSuggestion: { status: 'SNOOZED' } })
    const past = await server.query('mutation($id: ID!) { snoozeSuggestion(id: $id, until: "2000-01-01T00:00:00Z") { status } }', { id: before[3]!.id }, alice.token)
    expect(code(past)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' })
    expect(code(await server.query('mutation { acceptSuggestion(id: "nonsense") { id } }', {}, alice.token))?.code).toBe('BAD_USER_INPUT')
    expect(code(await server.query('mutation($id: ID!) { acceptSuggestion(id: $id) { id } }', { id: encodeGlobalID('Suggestion', 'nonsense') }, alice.token))?.code).toBe('NOT_FOUND')
    // Suggestion is a Node: stored ones come back with their status, pending ones as ranked now; never another user's.
    const node = 'query($id: ID!) { node(id: $id) { id ... on Suggestion { status reason contact { id } } } }'
    expect((await server.query(node, { id: a!.id }, alice.token)).data!.node).toMatchObject({ id: a!.id, status: 'ACCEPTED', contact: a!.contact })
    expect((await server.query(node, { id: before[4]!.id }, alice.token)).data!.node).toMatchObject({ id: before[4]!.id, status: 'PENDING', contact: before[4]!.contact })
    for (const id of [a!.id, before[4]!.id]) expect(code(await server.query(node, { id }, bob.token))?.code).toBe('NOT_FOUND')
    const after = (await suggestions()).map((s) => s.contact.id)
    for (const gone of [a, b, c]) expect(after).not.toContain(gone!.contact.id)
    expect(after.slice(0, 7)).toEqual(before.slice(3).map((s) => s.contact.id))
  })

  it('keeps one status per contact (the latest, whatever slot its id names) and one spelling per id', async () => {
    const { id: contactId } = (await db.prisma.contact.findFirst({ where: { userId: alice.id }, orderBy: { id: 'desc' }, select: { id: true } }))!
    const slotted = (start: number) => encodeGlobalID('Suggestion', suggestionId(contactId, { start: new Date(start), end: new Date(start + 1800_000) }))
    const accept = 'mutation($id: ID!) { acceptSuggestion(id: $id) { status } }'
    for (const start of [0, 1800_000, Date.UTC(2030, 0, 1)]) expect((await server.query(accept, { id: slotted(start) }, alice.token)).data).toEqual({ acceptSuggestion: { status: 'ACCEPTED' } })
    const dismiss = 'mutation($id: ID!) { dismissSuggestion(id: $id) { status } }'
    expect((await server.query(dismiss, { id: encodeGlobalID('Suggestion', suggestionId(contactId, null)) }, alice.token)).data).toEqual({ dismissSuggestion: { status: 'DISMISSED' } })
    expect(await db.prisma.suggestion.findMany({ where: { contactId }, select: { id: true, status: true } })).toEqual([{ id: suggestionId(contactId, null), status: 'DISMISSED' }])
    // The same id in capitals names no suggestion: it would have been a second row for the same one.
    const shouted = encodeGlobalID('Suggestion', suggestionId(contactId, null).replace(contactId, contactId.toUpperCase()))
    expect(code(await server.query(dismiss, { id: shouted }, alice.token))?.code).toBe('NOT_FOUND')
  })
})
