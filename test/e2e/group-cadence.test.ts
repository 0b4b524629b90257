/**
 * Groups and tags through the API (issue 13, item 2): a group's default cadence applies to members
 * without a frequency of their own (materialized: `nextDueAt` follows, the engine reads it), and
 * leaving the group, deleting it or clearing its default falls back; an import into a group inherits
 * too. Groups are renamed, deleted and counted; tags are listed, renamed (merged) and deleted. Every
 * refusal names its field; another user's ids are NOT_FOUND (or, for deleteGroup, false).
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DAY_MS } from '../../src/time.ts'
import { applyContactBatch } from '../../src/imports/contacts/apply-batch.ts'
import type { ImportedContact } from '../../src/imports/types.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()

const CONTACT = `id frequencyPreference nextDueAt lastContactDate groups { name }
  cadence { days frequency source rule group { id name } }`

describe.each(kinds)('group default cadence, groups and tags on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let bob: FixtureUser
  const last = new Date(FIXTURE_NOW.getTime() - 3 * DAY_MS)

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 0)
    bob = await createUserWithContacts(db.prisma, 'bob@example.org', 3)
    server = await startTestServer(db, { clock: { now: () => new Date(FIXTURE_NOW) } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token = alice.token): Promise<T> {
    const result = await server.query<T>(query, variables, token)
    expect(result.errors, query).toBeUndefined()
    return result.data!
  }
  const errorOf = async (query: string, variables: Record<string, unknown>, token = alice.token) => (await server.query(query, variables, token)).errors?.[0]?.extensions

  const createContact = async (input: Record<string, unknown>) =>
    (await ok(`mutation($input: CreateContactInput!) { createContact(input: $input) { ${CONTACT} } }`, { input })).createContact
  const createGroup = async (name: string, defaultFrequency?: string) =>
    (await ok(`mutation($name: String!, $f: FrequencyPreference) { createGroup(name: $name, defaultFrequency: $f) { id name defaultFrequency memberCount } }`, { name, f: defaultFrequency })).createGroup
  const setGroups = async (id: string, groupIds: string[]) =>
    (await ok(`mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { ${CONTACT} } }`, { id, g: groupIds })).setContactGroups
  const contact = async (id: string) => (await ok(`query($id: ID!) { node(id: $id) { ... on Contact { ${CONTACT} } } }`, { id })).node
  const updateGroup = async (id: string, input: Record<string, unknown>) =>
    (await ok(`mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id name defaultFrequency } }`, { id, input })).updateGroup
  const dueAfter = (days: number) => new Date(last.getTime() + days * DAY_MS).toISOString()

  it("a member without its own frequency takes the group's default; its own frequency wins; leaving, clearing and deleting fall back", async () => {
    const family = await createGroup('Kin', 'WEEKLY')
    expect(family).toMatchObject({ name: 'Kin', defaultFrequency: 'WEEKLY', memberCount: 0 })
    const ann = await createContact({ name: 'Ann', dunbarCircle: 'CASUAL', lastContactDate: last.toISOString() })
    expect(ann.cadence).toMatchObject({ days: 90, frequency: null, source: 'CIRCLE', group: null })

    const joined = await setGroups(ann.id, [family.id])
    expect(joined).toMatchObject({ frequencyPreference: null, nextDueAt: dueAfter(7) })
    expect(joined.cadence).toEqual({
      days: 7,
      frequency: 'WEEKLY',
      source: 'GROUP',
      rule: "Every 7 days (weekly), from the group Kin's default",
      group: { id: family.id, name: 'Kin' },
    })
    // The engine reads the materialized frequency.
    const row = await db.prisma.contact.findUniqueOrThrow({ where: { id: (await idOf(ann.id)) } })
    expect(row).toMatchObject({ frequencyPreference: 'WEEKLY', frequencyFromGroup: true })

    // Several groups: the shortest default wins.
    const club = await createGroup('Club', 'MONTHLY')
    expect((await setGroups(ann.id, [club.id, family.id])).cadence).toMatchObject({ days: 7, source: 'GROUP', group: { name: 'Kin' } })
    expect((await setGroups(ann.id, [club.id])).cadence).toMatchObject({ days: 30, frequency: 'MONTHLY', group: { name: 'Club' } })
    await setGroups(ann.id, [club.id, family.id])

    // Its own frequency wins, and clearing it falls back to the groups.
    const own = (await ok(`mutation($id: ID!) { updateContact(id: $id, input: { frequencyPreference: QUARTERLY }) { ${CONTACT} } }`, { id: ann.id })).updateContact
    expect(own).toMatchObject({ frequencyPreference: 'QUARTERLY', nextDueAt: dueAfter(90), cadence: { source: 'CONTACT', days: 90, group: null } })
    await updateGroup(family.id, { defaultFrequency: 'BIWEEKLY' })
    expect(await contact(ann.id)).toMatchObject({ frequencyPreference: 'QUARTERLY', cadence: { source: 'CONTACT' } })
    const cleared = (await ok(`mutation($id: ID!) { updateContact(id: $id, input: { frequencyPreference: null }) { ${CONTACT} } }`, { id: ann.id })).updateContact
    expect(cleared).toMatchObject({ frequencyPreference: null, nextDueAt: dueAfter(14), cadence: { source: 'GROUP', days: 14, group: { name: 'Kin' } } })

    // A default changed or cleared (explicit null) recomputes the members; a rename does not change the cadence.
    await updateGroup(family.id, { defaultFrequency: null })
    expect(await contact(ann.id)).toMatchObject({ nextDueAt: dueAfter(30), cadence: { source: 'GROUP', days: 30, group: { name: 'Club' } } })
    expect(await updateGroup(club.id, { name: ' Chess club ' })).toMatchObject({ name: 'Chess club', defaultFrequency: 'MONTHLY' })
    expect((await contact(ann.id)).cadence.rule).toBe("Every 30 days (monthly), from the group Chess club's default")

    // Leaving the group falls back to the circle.
    expect(await setGroups(ann.id, [family.id])).toMatchObject({ nextDueAt: dueAfter(90), cadence: { source: 'CIRCLE', days: 90, frequency: null } })

    // Deleting the group: members leave it and fall back.
    await setGroups(ann.id, [club.id, family.id])
    expect((await contact(ann.id)).cadence).toMatchObject({ days: 30, source: 'GROUP' })
    const groupCount = async () => (await db.prisma.user.findUniqueOrThrow({ where: { id: alice.id }, select: { groupCount: true } })).groupCount
    const before = await groupCount()
    expect((await ok(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: club.id })).deleteGroup).toBe(true)
    expect(await contact(ann.id)).toMatchObject({ groups: [{ name: 'Kin' }], nextDueAt: dueAfter(90), cadence: { source: 'CIRCLE' } })
    expect((await ok(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: club.id })).deleteGroup).toBe(false)
    expect(await groupCount()).toBe(before - 1)
  })

  it('a contact imported into a group with a default takes it, in the import batch', async () => {
    const friends = await createGroup('Friends', 'BIWEEKLY')
    const record: ImportedContact = {
      kind: 'contact',
      position: 1,
      raw: 'BEGIN:VCARD',
      externalId: 'uid-imported-1',
      name: 'Imported Ivy',
      emails: ['ivy@example.com'],
      phones: [],
      linkedIn: null,
      instagram: null,
      xHandle: null,
      otherSocialMedia: null,
      location: null,
      timezone: null,
      customNotes: null,
      birthday: null,
      groups: ['Friends'],
      source: 'VCARD',
    }
    await applyContactBatch({ prisma: db.prisma }, alice.id, [record], FIXTURE_NOW, { maxContacts: 1000 })
    const imported = await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id, externalId: 'uid-imported-1' } })
    expect(imported).toMatchObject({ frequencyPreference: 'BIWEEKLY', frequencyFromGroup: true, groupIds: [await idOf(friends.id)] })
    const shown = await contact(encodeGlobalID('Contact', imported.id))
    expect(shown).toMatchObject({ frequencyPreference: null, cadence: { source: 'GROUP', days: 14, group: { name: 'Friends' } } })
  })

  it('counts active members, renames with validation, refuses other users', async () => {
    const work = await createGroup('Office')
    const a = await createContact({ name: 'A' })
    const b = await createContact({ name: 'B' })
    await setGroups(a.id, [work.id])
    await setGroups(b.id, [work.id])
    await ok(`mutation($id: ID!) { archiveContact(id: $id) { id } }`, { id: b.id })
    const groups = (await ok(`{ me { groups { name memberCount } } }`)).me.groups
    expect(groups).toContainEqual({ name: 'Office', memberCount: 1 })

    const update = 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }'
    expect(await errorOf(update, { id: work.id, input: { name: '  ' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' })
    expect(await errorOf(update, { id: work.id, input: { name: 'x'.repeat(101) } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' })
    expect(await errorOf(update, { id: work.id, input: { name: null } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' })
    expect(await errorOf(update, { id: work.id, input: { name: 'Kin' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' })
    expect(await errorOf('mutation { createGroup(name: "Office") { id } }', {})).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    const bobGroup = encodeGlobalID('Group', bob.groupIds[0]!)
    expect(await errorOf(update, { id: bobGroup, input: { name: 'Mine' } })).toMatchObject({ code: 'NOT_FOUND' })
    expect((await ok(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: bobGroup })).deleteGroup).toBe(false)
    expect(await db.prisma.group.count({ where: { id: bob.groupIds[0]! } })).toBe(1)
  })

  it('lists, renames (merging) and deletes tags across contacts, with counts of active contacts', async () => {
    // The import above tagged its contact with its label.
    expect((await ok(`mutation { deleteTag(name: "Friends") }`)).deleteTag).toBe(1)
    const x = await createContact({ name: 'X', tags: ['chess', 'go'] })
    const y = await createContact({ name: 'Y', tags: ['go'] })
    const z = await createContact({ name: 'Z', tags: ['chess'] })
    await ok(`mutation($id: ID!) { archiveContact(id: $id) { id } }`, { id: z.id })
    const tags = async () => (await ok(`{ me { tags { name contactCount } } }`)).me.tags
    expect(await tags()).toEqual([
      { name: 'chess', contactCount: 1 },
      { name: 'go', contactCount: 2 },
    ])
    // Merging: X has both, keeps one.
    expect((await ok(`mutation { renameTag(from: "chess", to: "go") }`)).renameTag).toBe(2)
    expect(await tags()).toEqual([{ name: 'go', contactCount: 2 }])
    const tagsOf = async (id: string) => (await ok(`query($id: ID!) { node(id: $id) { ... on Contact { tags } } }`, { id })).node.tags
    expect(await tagsOf(x.id)).toEqual(['go'])
    expect(await tagsOf(z.id)).toEqual(['go'])
    expect((await ok(`mutation { renameTag(from: "go", to: " board games ") }`)).renameTag).toBe(3)
    expect(await tagsOf(y.id)).toEqual(['board games'])
    expect((await ok(`mutation { deleteTag(name: "board games") }`)).deleteTag).toBe(3)
    expect((await ok(`mutation { deleteTag(name: "board games") }`)).deleteTag).toBe(0)
    expect(await tags()).toEqual([])
    expect(await errorOf('mutation($v: String!) { renameTag(from: $v, to: "a") }', { v: '' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' })
    expect(await errorOf('mutation($v: String!) { renameTag(from: "a", to: $v) }', { v: 'x'.repeat(51) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' })
    expect(await errorOf('mutation($v: String!) { deleteTag(name: $v) }', { v: 'a\u0000' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
    // Another user's tags are never touched.
    const bobTags = await db.prisma.contact.findMany({ where: { userId: bob.id }, select: { tags: true }, orderBy: { id: 'asc' } })
    await ok(`mutation { deleteTag(name: "friend") }`)
    expect(await db.prisma.contact.findMany({ where: { userId: bob.id }, select: { tags: true }, orderBy: { id: 'asc' } })).toEqual(bobTags)
  })

  /** The database id of a global id. */
  async function idOf(globalId: string): Promise<string> {
    return Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':')
  }
})
