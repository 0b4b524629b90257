/**
 * "Every write asks for the user's suggestions to be regenerated and tells live
 * subscribers" is a domain rule: the write functions announce themselves, so a
 * caller other than GraphQL (an importer, a job, a CLI) announces too. Each write
 * is called here directly, with a recording announcer; a refused write announces nothing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { addCalendarEvent, removeCalendarEvent, setAvailability } from '../../src/calendar/calendar-writes.ts'
import { createChangeAnnouncer, type AnnounceChange, type WriteDeps } from '../../src/changes/announce.ts'
import { archiveContact, createContact, logInteraction, updateContact } from '../../src/contacts/contact-writes.ts'
import { createGroup, deleteGroup, setContactGroups, updateGroup } from '../../src/groups/groups.ts'
import { deleteTag, renameTag } from '../../src/contacts/tags.ts'
import { createChangeBus } from '../../src/pubsub/changes.ts'
import { createLogger } from '../../src/logger.ts'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { restoreSuggestion, setSuggestionStatus, undoSuggestionAction } from '../../src/suggestions/suggestion-status.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()
const UNKNOWN = '00000000-0000-4000-8000-000000000000'

describe.each(kinds)('domain writes announce themselves on %s', (kind) => {
  let db: TestDatabase
  let alice: FixtureUser
  const announce = vi.fn<AnnounceChange>()
  let deps: WriteDeps

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 3)
    deps = { prisma: db.prisma, announce }
  })
  afterAll(async () => {
    await db?.destroy()
  })

  /** The announcements `write` made, and its result. */
  async function announced<T>(write: () => Promise<T>): Promise<{ calls: unknown[][]; value: T }> {
    announce.mockClear()
    const value = await write()
    return { calls: announce.mock.calls, value }
  }

  it('each write announces once, with what it changed, after it succeeded', async () => {
    const contact = await announced(() => createContact(deps, alice.id, { name: 'Ada' }, FIXTURE_NOW))
    const id = contact.value.id
    // The contact writes also say what happened, for the webhooks (issue 17): thin data, the API's global ids.
    const contactId = Buffer.from(`Contact:${id}`).toString('base64')
    expect(contact.calls).toEqual([[alice.id, 'contact', { type: 'contact.created', data: { contactId } }]])
    expect((await announced(() => updateContact(deps, alice.id, id, { name: 'Ada L.' }, FIXTURE_NOW))).calls).toEqual([[alice.id, 'contact', { type: 'contact.updated', data: { contactId, fields: ['name'] } }]])
    expect((await announced(() => archiveContact(deps, alice.id, id, true))).calls).toEqual([[alice.id, 'contact', { type: 'contact.archived', data: { contactId } }]])
    expect((await announced(() => archiveContact(deps, alice.id, id, false))).calls).toEqual([[alice.id, 'contact', { type: 'contact.updated', data: { contactId, fields: ['archived'] } }]])
    expect((await announced(() => logInteraction(deps, alice.id, id, { kind: 'CALL' }, FIXTURE_NOW))).calls).toEqual([
      [alice.id, 'interaction', { type: 'interaction.logged', data: { contactId, occurredAt: FIXTURE_NOW.toISOString(), kind: 'CALL' } }],
    ])
    const group = await announced(() => createGroup(deps, alice.id, 'Chess'))
    expect(group.calls).toEqual([[alice.id, 'group']])
    expect((await announced(() => setContactGroups(deps, alice.id, id, [group.value.id], FIXTURE_NOW))).calls).toEqual([[alice.id, 'groups']])
    const windows = [{ weekday: 1, startMinute: 540, endMinute: 1020 }]
    expect((await announced(() => setAvailability(deps, alice.id, windows, 'Europe/Paris'))).calls).toEqual([[alice.id, 'availability']])
    const event = await announced(() =>
      addCalendarEvent(deps, alice.id, { title: 'Dentist', startsAt: FIXTURE_NOW, endsAt: new Date(FIXTURE_NOW.getTime() + 3_600_000) }),
    )
    expect(event.calls).toEqual([[alice.id, 'calendar']])
    expect((await announced(() => removeCalendarEvent(deps, alice.id, event.value.id))).calls).toEqual([[alice.id, 'calendar']])
    const accepted = await announced(() => setSuggestionStatus(deps, alice.id, suggestionId(id, null), 'ACCEPTED', FIXTURE_NOW))
    expect(accepted.calls).toEqual([[alice.id, 'suggestion']])
    expect((await announced(() => undoSuggestionAction(deps, alice.id, suggestionId(id, null), FIXTURE_NOW))).calls).toEqual([[alice.id, 'suggestion']])
    await setSuggestionStatus(deps, alice.id, suggestionId(id, null), 'DISMISSED', FIXTURE_NOW)
    expect((await announced(() => restoreSuggestion(deps, alice.id, suggestionId(id, null), FIXTURE_NOW))).calls).toEqual([[alice.id, 'suggestion']])
    expect((await announced(() => updateGroup(deps, alice.id, group.value.id, { defaultFrequency: 'WEEKLY' }, FIXTURE_NOW))).calls).toEqual([[alice.id, 'group']])
    expect((await announced(() => updateContact(deps, alice.id, id, { tags: ['chess'] }, FIXTURE_NOW))).calls).toEqual([[alice.id, 'contact', { type: 'contact.updated', data: { contactId, fields: ['tags'] } }]])
    expect((await announced(() => renameTag(deps, alice.id, 'chess', 'go', FIXTURE_NOW))).calls).toEqual([[alice.id, 'contact']])
    expect((await announced(() => deleteTag(deps, alice.id, 'go', FIXTURE_NOW))).calls).toEqual([[alice.id, 'contact']])
    expect((await announced(() => deleteGroup(deps, alice.id, group.value.id, FIXTURE_NOW))).calls).toEqual([[alice.id, 'group']])
  })

  it('a refused write announces nothing', async () => {
    announce.mockClear()
    await expect(updateContact(deps, alice.id, UNKNOWN, { name: 'X' }, FIXTURE_NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(createGroup(deps, alice.id, '')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
    await expect(removeCalendarEvent(deps, alice.id, UNKNOWN)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(setSuggestionStatus(deps, alice.id, 'nonsense', 'DISMISSED', FIXTURE_NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(undoSuggestionAction(deps, alice.id, suggestionId(UNKNOWN, null), FIXTURE_NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(updateGroup(deps, alice.id, UNKNOWN, { name: 'X' }, FIXTURE_NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(renameTag(deps, alice.id, '', 'x', FIXTURE_NOW)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
    // Writes that found nothing to change announce nothing either.
    expect(await deleteGroup(deps, alice.id, UNKNOWN, FIXTURE_NOW)).toBe(false)
    expect(await deleteTag(deps, alice.id, 'no such tag', FIXTURE_NOW)).toBe(0)
    expect(announce).not.toHaveBeenCalled()
  })

  it("the server's announcer tells the user's live subscribers and asks for a regeneration, even when the queue refuses", async () => {
    const bus = createChangeBus()
    const requestRegeneration = vi.fn(async (_userId: string) => {
      throw new Error('queue unreachable')
    })
    const serverAnnounce = createChangeAnnouncer({ pubsub: bus.pubsub, jobs: { requestRegeneration }, logger: createLogger('silent') })
    const notices = bus.pubsub.subscribe('user-changed', alice.id)[Symbol.asyncIterator]()
    const next = notices.next()
    await createContact({ prisma: db.prisma, announce: serverAnnounce }, alice.id, { name: 'Grace' }, FIXTURE_NOW)
    expect((await next).value).toEqual({ what: 'contact' })
    expect(requestRegeneration).toHaveBeenCalledWith(alice.id)
    await notices.return?.()
    await bus.close()
  })
})
