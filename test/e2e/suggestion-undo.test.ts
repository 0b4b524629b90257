/**
 * Suggestion actions that can be taken back (issue 13, item 4): undo of accept / dismiss / snooze
 * brings back the status each replaced (of the same slot or another one, with its set-at and snooze
 * date), or none; restore clears a contact's status; `suggestionsByStatus` lists only the statuses
 * still in force, latest first, across pages; `statusSetAt` / `statusEndsAt` follow the rule of
 * suggestion-status.ts. On a clock the test moves.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { DAY_MS, HOUR_MS } from '../../src/time.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const FIELDS = 'id status statusSetAt statusEndsAt slot { start end } contact { id }'
const HORIZON_MS = 7 * DAY_MS

describe.each(kinds)('undo, restore and lists of suggestion statuses on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  let contacts: string[]
  let now = new Date(FIXTURE_NOW)
  const at = (ms: number) => new Date(ms).toISOString()

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 12)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 2)
    server = await startTestServer(db, { clock: { now: () => new Date(now) } })
    contacts = (await db.prisma.contact.findMany({ where: { userId: alice.id, archived: false }, orderBy: { id: 'asc' } })).map((contact) => contact.id)
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
  const errorOf = async (query: string, variables: Record<string, unknown>, token = alice.token) => (await server.query(query, variables, token)).errors?.[0]?.extensions
  const sid = (contactId: string, slot: { start: number; end: number } | null = null) =>
    encodeGlobalID('Suggestion', suggestionId(contactId, slot && { start: new Date(slot.start), end: new Date(slot.end) }))
  const accept = async (id: string) => (await ok(`mutation($id: ID!) { acceptSuggestion(id: $id) { ${FIELDS} } }`, { id })).acceptSuggestion
  const dismiss = async (id: string) => (await ok(`mutation($id: ID!) { dismissSuggestion(id: $id) { ${FIELDS} } }`, { id })).dismissSuggestion
  const snooze = async (id: string, until: Date) => (await ok(`mutation($id: ID!, $u: DateTime!) { snoozeSuggestion(id: $id, until: $u) { ${FIELDS} } }`, { id, u: until.toISOString() })).snoozeSuggestion
  const undo = async (id: string) => (await ok(`mutation($id: ID!) { undoSuggestionAction(id: $id) { ${FIELDS} } }`, { id })).undoSuggestionAction
  const restore = async (id: string) => (await ok(`mutation($id: ID!) { restoreSuggestion(id: $id) { ${FIELDS} } }`, { id })).restoreSuggestion
  const UNDO = 'mutation($id: ID!) { undoSuggestionAction(id: $id) { id } }'
  /** Every page of suggestionsByStatus, 2 at a time, and the totalCount of the first. */
  async function listed(statuses: string[]): Promise<{ ids: string[]; totalCount: number }> {
    const ids: string[] = []
    let after: string | null = null
    let totalCount = -1
    for (;;) {
      const page: Record<string, any> = (
        await ok(`query($s: [SuggestionStatus!]!, $after: String) { suggestionsByStatus(statuses: $s, first: 2, after: $after) { totalCount edges { node { id status } } pageInfo { hasNextPage endCursor } } }`, {
          s: statuses,
          after,
        })
      ).suggestionsByStatus
      if (totalCount < 0) totalCount = page.totalCount
      ids.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id))
      if (!page.pageInfo.hasNextPage) return { ids, totalCount }
      after = page.pageInfo.endCursor
    }
  }

  it('each action shows when it was set and when it ends; undo of the first action gives PENDING, then nothing is left to undo', async () => {
    now = new Date(FIXTURE_NOW)
    const [c] = contacts
    const slot = { start: FIXTURE_NOW.getTime() + DAY_MS, end: FIXTURE_NOW.getTime() + DAY_MS + HOUR_MS }
    expect(await accept(sid(c!, slot))).toMatchObject({ status: 'ACCEPTED', statusSetAt: at(now.getTime()), statusEndsAt: at(slot.end) })
    expect(await undo(sid(c!))).toMatchObject({ id: sid(c!), status: 'PENDING', statusSetAt: null, statusEndsAt: null })
    expect(await errorOf(UNDO, { id: sid(c!) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' })

    expect(await dismiss(sid(c!))).toMatchObject({ status: 'DISMISSED', statusEndsAt: at(now.getTime() + HORIZON_MS) })
    expect(await accept(sid(c!))).toMatchObject({ status: 'ACCEPTED', slot: null, statusEndsAt: at(now.getTime() + HORIZON_MS) })
    const until = new Date(now.getTime() + 3 * DAY_MS)
    expect(await snooze(sid(c!), until)).toMatchObject({ status: 'SNOOZED', statusEndsAt: until.toISOString() })
    await restore(sid(c!))
  })

  it('undo of accept, dismiss and snooze brings back the status each replaced, of the same slot or another, with its set-at', async () => {
    const [, c] = contacts
    const slotA = { start: FIXTURE_NOW.getTime() + 2 * DAY_MS, end: FIXTURE_NOW.getTime() + 2 * DAY_MS + HOUR_MS }
    const tick = () => (now = new Date(now.getTime() + 60_000))
    now = new Date(FIXTURE_NOW.getTime() + 60_000)

    // Snooze replacing the acceptance of another slot (one status per contact): undo brings slot A back.
    const accepted = await accept(sid(c!, slotA))
    tick()
    await snooze(sid(c!), new Date(now.getTime() + DAY_MS))
    expect(await db.prisma.suggestion.count({ where: { contactId: c!, status: { not: 'PENDING' } } })).toBe(1)
    // Named by any slot's id of the contact.
    expect(await undo(sid(c!))).toMatchObject({ id: accepted.id, status: 'ACCEPTED', statusSetAt: accepted.statusSetAt, slot: { start: at(slotA.start), end: at(slotA.end) } })
    expect(await db.prisma.suggestion.findMany({ where: { contactId: c!, status: { not: 'PENDING' } }, select: { id: true } })).toEqual([{ id: suggestionId(c!, { start: new Date(slotA.start), end: new Date(slotA.end) }) }])
    // A restored status has nothing more to undo (one step back, not a history).
    expect(await errorOf(UNDO, { id: sid(c!) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' })

    // Dismissal replacing a snooze of the same slot: undo brings the snooze back, with its date.
    tick()
    const until = new Date(now.getTime() + 5 * DAY_MS)
    const snoozed = await snooze(sid(c!), until)
    tick()
    await dismiss(sid(c!))
    expect(await undo(sid(c!, slotA))).toMatchObject({ id: sid(c!), status: 'SNOOZED', statusSetAt: snoozed.statusSetAt, statusEndsAt: until.toISOString() })

    // Acceptance replacing a dismissal of another slot: undo brings the dismissal back.
    tick()
    const dismissed = await dismiss(sid(c!))
    tick()
    await accept(sid(c!, slotA))
    expect(await undo(sid(c!))).toMatchObject({ id: dismissed.id, status: 'DISMISSED', statusSetAt: dismissed.statusSetAt })
    await restore(sid(c!))
  })

  it('restore clears the status of every slot of the contact; another user gets NOT_FOUND and changes nothing', async () => {
    now = new Date(FIXTURE_NOW.getTime() + DAY_MS)
    const [, , c] = contacts
    await dismiss(sid(c!))
    const bobContact = (await db.prisma.contact.findFirstOrThrow({ where: { userId: bob.id } })).id
    for (const mutation of ['undoSuggestionAction', 'restoreSuggestion']) {
      expect(await errorOf(`mutation($id: ID!) { ${mutation}(id: $id) { id } }`, { id: sid(c!) }, bob.token)).toMatchObject({ code: 'NOT_FOUND' })
      expect(await errorOf(`mutation($id: ID!) { ${mutation}(id: $id) { id } }`, { id: sid(bobContact) })).toMatchObject({ code: 'NOT_FOUND' })
    }
    expect(await db.prisma.suggestion.count({ where: { contactId: c!, status: 'DISMISSED' } })).toBe(1)
    expect(await restore(sid(c!, { start: now.getTime(), end: now.getTime() + HOUR_MS }))).toMatchObject({ status: 'PENDING', statusSetAt: null })
    expect(await db.prisma.suggestion.count({ where: { contactId: c!, status: { not: 'PENDING' } } })).toBe(0)
    expect(await errorOf(UNDO, { id: sid(c!) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' })
  })

  it('suggestionsByStatus lists the statuses in force only, latest first, the same rows across pages as totalCount', async () => {
    await db.prisma.suggestion.deleteMany({ where: { userId: alice.id } })
    const start = FIXTURE_NOW.getTime() + 10 * DAY_MS
    const step = (minutes: number) => (now = new Date(start + minutes * 60_000))
    const [, , , d1, d2, d3, d4, d5, d6, d7] = contacts
    step(0)
    await dismiss(sid(d1!)) // ends with the horizon: gone 8 days later
    step(1)
    await snooze(sid(d2!), new Date(start + 2 * DAY_MS)) // ends in 2 days
    step(2)
    await snooze(sid(d3!), new Date(start + 30 * DAY_MS))
    step(3)
    await accept(sid(d4!, { start: start + HOUR_MS, end: start + 2 * HOUR_MS })) // ends with its slot
    step(4)
    await accept(sid(d5!)) // ends with an interaction logged after it
    step(5)
    await accept(sid(d6!))
    step(6)
    await dismiss(sid(d7!))
    step(7)
    const byStatus = async (statuses: string[]) => (await listed(statuses)).ids
    expect(await byStatus(['DISMISSED', 'SNOOZED'])).toEqual([sid(d7!), sid(d3!), sid(d2!), sid(d1!)])
    expect(await byStatus(['ACCEPTED'])).toEqual([sid(d6!), sid(d5!), sid(d4!, { start: start + HOUR_MS, end: start + 2 * HOUR_MS })])

    await ok(`mutation($id: ID!) { logInteraction(contactId: $id, input: { kind: CALL }) { id } }`, { id: encodeGlobalID('Contact', d5!) })
    now = new Date(start + 3 * HOUR_MS)
    expect(await byStatus(['ACCEPTED'])).toEqual([sid(d6!)])
    now = new Date(start + 3 * DAY_MS)
    expect(await byStatus(['SNOOZED', 'DISMISSED'])).toEqual([sid(d7!), sid(d3!), sid(d1!)])
    now = new Date(start + 7 * DAY_MS + 3 * 60_000)
    const all = await listed(['ACCEPTED', 'DISMISSED', 'SNOOZED'])
    // The slot-less acceptance of d6 (set at minute 5) lasts the horizon: two minutes more.
    expect(all.ids).toEqual([sid(d7!), sid(d6!), sid(d3!)])
    expect(all.totalCount).toBe(3)
    for (const statuses of [['DISMISSED'], ['SNOOZED'], ['ACCEPTED'], ['SNOOZED', 'ACCEPTED']]) {
      const list = await listed(statuses)
      expect(list.totalCount, statuses.join()).toBe(list.ids.length)
    }
    // Bob sees none of Alice's.
    expect((await server.query('{ suggestionsByStatus(statuses: [DISMISSED, SNOOZED, ACCEPTED]) { totalCount edges { cursor } } }', {}, bob.token)).data).toEqual({
      suggestionsByStatus: { totalCount: 0, edges: [] },
    })
  })

  it('refuses PENDING, no status, a bad page size and a cursor of another list', async () => {
    const LIST = 'query($s: [SuggestionStatus!]!, $first: Int, $after: String) { suggestionsByStatus(statuses: $s, first: $first, after: $after) { pageInfo { endCursor } } }'
    expect(await errorOf(LIST, { s: ['PENDING'] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'statuses' })
    expect(await errorOf(LIST, { s: ['DISMISSED', 'PENDING'] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'statuses' })
    expect(await errorOf(LIST, { s: [] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'statuses' })
    expect(await errorOf(LIST, { s: ['SNOOZED'], first: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
    expect(await errorOf(LIST, { s: ['SNOOZED'], first: 101 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' })
    const cursor = (await ok(LIST, { s: ['SNOOZED', 'DISMISSED'], first: 1 })).suggestionsByStatus.pageInfo.endCursor as string
    expect(cursor).toBeTruthy()
    expect(await errorOf(LIST, { s: ['ACCEPTED'], after: cursor })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    expect(await errorOf(LIST, { s: ['SNOOZED', 'DISMISSED'], after: cursor }, bob.token)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
  })
})
