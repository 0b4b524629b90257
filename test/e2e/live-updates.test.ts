/**
 * Issue 10, kind 13 (a, b) and kind 11 over the API: a live stream shows fresh
 * data on every update (nothing cached for the life of a subscription), every
 * mutation of the schema announces its change, and client slots are intervals.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { schema } from '../../src/graphql/schema.ts'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'

const kinds = await availableDatabaseKinds()

const SUBSCRIPTION = /* GraphQL */ `
  subscription Suggestions($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { suggestions { id slot { start end } contact { id groups { id name } } } }
      ... on SuggestionsUpdated { suggestions { id slot { start end } contact { id groups { id name } } } }
    }
  }
`

type Suggestion = { id: string; slot: { start: string; end: string } | null; contact: { id: string; groups: { id: string; name: string }[] } }
type Event = { __typename: string; suggestions?: Suggestion[] }

/** The mutations of the schema, each as a call that must succeed; ids come from what earlier calls returned. */
interface Ids {
  contact: string
  others: string[]
  suggestions: string[]
  created?: string
  group?: string
  event?: string
}
type Call = { query: string; variables: (ids: Ids) => Record<string, unknown>; keep?: (data: Record<string, any>, ids: Ids) => void }

/** Mutations that change nothing a suggestion is made of, each with the reason it announces nothing. */
const NOT_ANNOUNCED: Record<string, string> = {
  importContacts: 'the import job announces, once when it finishes (test/e2e/imports-api.test.ts: one SuggestionsUpdated for 2,000 contacts)',
  importCalendar: 'the import job announces, once when it finishes (test/e2e/imports-api.test.ts)',
  revokeToken: 'credentials are not suggestion data; the streams on that token end instead',
  createApiKey: 'credentials are not suggestion data',
  revokeApiKey: 'credentials are not suggestion data; the streams on that key end instead',
  registerOAuthApp: 'an app registration is not suggestion data',
  revokeConnectedApp: "credentials are not suggestion data; the app's streams end instead",
  rotateCalendarFeed: 'the feed secret is not suggestion data; the feed is read on demand',
  revokeCalendarFeed: 'the feed secret is not suggestion data; the feed is read on demand',
  connectAccount: 'an account is not suggestion data; its sync job announces what it brings, once per collection (test/integration/contacts-sync.test.ts, calendar-sync.test.ts)',
  setAccountCollections: 'which collections sync is not suggestion data; the sync it queues announces what changes',
  setAccountWriteCalendar: 'where accepted suggestions are written is not suggestion data; the sync it queues writes them',
  syncAccount: 'queues the sync job, which announces what changed',
  resolveSyncConflict: 'announces only when LOCAL changes the contact (sync/sync-conflicts.ts, test/e2e/accounts.test.ts): this test has no conflict to resolve',
  registerTrustedDocuments: "an app's trusted documents are not suggestion data",
  setTrustedDocumentsOnly: "an app's setting is not suggestion data",
  createWebhookEndpoint: 'a webhook endpoint is not suggestion data: it receives the changes other writes announce',
  updateWebhookEndpoint: 'a webhook endpoint is not suggestion data',
  pauseWebhookEndpoint: 'a webhook endpoint is not suggestion data',
  rotateWebhookSecret: 'a signing secret is not suggestion data',
  deleteWebhookEndpoint: 'a webhook endpoint is not suggestion data',
  redeliverWebhook: 'a webhook delivery is not suggestion data',
  sendTestWebhook: 'a test webhook is not suggestion data',
  disconnectAccount: 'announces only when the account had brought contacts or events (accounts.ts): this test has no account with either',
}

const CALLS: Record<string, Call> = {
  createContact: {
    query: 'mutation { createContact(input: { name: "Announced" }) { id } }',
    variables: () => ({}),
    keep: (data, ids) => void (ids.created = data.createContact.id),
  },
  updateContact: { query: 'mutation($id: ID!) { updateContact(id: $id, input: { location: "Lyon" }) { id } }', variables: (ids) => ({ id: ids.created }) },
  archiveContact: { query: 'mutation($id: ID!) { archiveContact(id: $id) { id } }', variables: (ids) => ({ id: ids.created }) },
  logInteraction: { query: 'mutation($id: ID!) { logInteraction(contactId: $id) { id } }', variables: (ids) => ({ id: ids.others[0] }) },
  createGroup: {
    query: 'mutation { createGroup(name: "Announced group") { id } }',
    variables: () => ({}),
    keep: (data, ids) => void (ids.group = data.createGroup.id),
  },
  setContactGroups: {
    query: 'mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { id } }',
    variables: (ids) => ({ id: ids.contact, g: [ids.group] }),
  },
  setAvailability: {
    query: 'mutation { setAvailability(windows: [{ weekday: 2, startMinute: 600, endMinute: 660 }]) { weekday } }',
    variables: () => ({}),
  },
  addCalendarEvent: {
    query: 'mutation { addCalendarEvent(input: { startsAt: "2030-01-01T10:00:00Z", endsAt: "2030-01-01T11:00:00Z" }) { id } }',
    variables: () => ({}),
    keep: (data, ids) => void (ids.event = data.addCalendarEvent.id),
  },
  removeCalendarEvent: { query: 'mutation($id: ID!) { removeCalendarEvent(id: $id) }', variables: (ids) => ({ id: ids.event }) },
  acceptSuggestion: { query: 'mutation($id: ID!) { acceptSuggestion(id: $id) { id } }', variables: (ids) => ({ id: ids.suggestions[0] }) },
  dismissSuggestion: { query: 'mutation($id: ID!) { dismissSuggestion(id: $id) { id } }', variables: (ids) => ({ id: ids.suggestions[1] }) },
  snoozeSuggestion: {
    query: 'mutation($id: ID!, $until: DateTime!) { snoozeSuggestion(id: $id, until: $until) { id } }',
    variables: (ids) => ({ id: ids.suggestions[2], until: new Date(Date.now() + 86_400_000).toISOString() }),
  },
  undoSuggestionAction: { query: 'mutation($id: ID!) { undoSuggestionAction(id: $id) { id } }', variables: (ids) => ({ id: ids.suggestions[2] }) },
  restoreSuggestion: { query: 'mutation($id: ID!) { restoreSuggestion(id: $id) { id } }', variables: (ids) => ({ id: ids.suggestions[1] }) },
  updateGroup: {
    query: 'mutation($id: ID!) { updateGroup(id: $id, input: { defaultFrequency: WEEKLY }) { id } }',
    variables: (ids) => ({ id: ids.group }),
  },
  renameTag: { query: 'mutation { renameTag(from: "friend", to: "pal") }', variables: () => ({}) },
  deleteTag: { query: 'mutation { deleteTag(name: "pal") }', variables: () => ({}) },
  deleteGroup: { query: 'mutation($id: ID!) { deleteGroup(id: $id) }', variables: (ids) => ({ id: ids.group }) },
}

describe.each(kinds)('live updates on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 40)
    server = await startTestServer(db)
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  /** A live suggestions stream over graphql-ws, with every event it got and a way to wait for one. */
  function live(input: Record<string, unknown> = { maxSuggestions: 10, slots: [] }) {
    const client = wsClient(server.url, alice.token)
    const events: Event[] = []
    const errors: unknown[] = []
    client.subscribe<{ suggestions: Event }>(
      { query: SUBSCRIPTION, variables: { input } },
      { next: (result) => void (result.errors ? errors.push(result.errors) : events.push(result.data!.suggestions)), error: (e) => void errors.push(e), complete: () => {} },
    )
    /** Waits until `predicate` holds for what came; fails after `ms` naming `what` and the events so far. */
    const until = (predicate: () => boolean, what: string, ms = 30_000) =>
      vi.waitFor(
        () => {
          if (!predicate()) throw new Error(`waiting for ${what}; got ${events.map((e) => e.__typename)}`)
        },
        { timeout: ms },
      )
    const updates = () => events.filter((e) => e.__typename === 'SuggestionsUpdated')
    return { client, events, errors, until, updates }
  }

  it('shows the groups as they are now in the next SuggestionsUpdated, not as the stream first saw them', async () => {
    const stream = live()
    try {
      await stream.until(() => stream.events.some((e) => e.__typename === 'SuggestionBatch'), 'the first batch')
      const top = stream.events[0]!.suggestions![0]!.contact
      const created = await server.query<{ createGroup: { id: string } }>('mutation { createGroup(name: "Fresh") { id } }', {}, alice.token)
      expect(created.errors).toBeUndefined()
      const set = await server.query('mutation($id: ID!, $g: [ID!]!) { setContactGroups(contactId: $id, groupIds: $g) { id } }', { id: top.id, g: [created.data!.createGroup.id] }, alice.token)
      expect(set.errors).toBeUndefined()
      const shown = () => stream.updates().at(-1)?.suggestions?.find((s) => s.contact.id === top.id)?.contact.groups
      // A group created after the stream's first event was missing for the life of the stream.
      await stream.until(() => shown()?.[0]?.name === 'Fresh', 'the new group in an update')
      expect(shown()).toEqual([{ id: created.data!.createGroup.id, name: 'Fresh' }])
    } finally {
      await stream.client.dispose()
    }
  })

  it('announces every mutation of the schema: each one is followed by a SuggestionsUpdated', async () => {
    // A new mutation without a call here fails: it must be listed, and so shown to announce its change
    // (or listed as announcing nothing, with the reason).
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual([...Object.keys(CALLS), ...Object.keys(NOT_ANNOUNCED)].sort())
    const stream = live({ maxSuggestions: 10, slots: [] })
    try {
      await stream.until(() => stream.events.some((e) => e.__typename === 'SuggestionBatch'), 'the first batch')
      const suggestions = stream.events.flatMap((e) => e.suggestions ?? [])
      const ids: Ids = { contact: suggestions[5]!.contact.id, others: [suggestions[6]!.contact.id], suggestions: suggestions.slice(0, 3).map((s) => s.id) }
      for (const [name, call] of Object.entries(CALLS)) {
        const before = stream.updates().length
        const result = await server.query(call.query, call.variables(ids), alice.token)
        expect(result.errors, name).toBeUndefined()
        call.keep?.(result.data!, ids)
        await stream.until(() => stream.updates().length > before, `the update after ${name}`)
      }
    } finally {
      await stream.client.dispose()
    }
  })

  it('refuses slots that overlap one another (two suggestions would share the same minutes)', async () => {
    const stream = live({ slots: [{ start: '2030-01-01T10:00:00Z', end: '2030-01-01T10:30:00Z' }, { start: '2030-01-01T10:15:00Z', end: '2030-01-01T10:45:00Z' }] })
    try {
      await stream.until(() => stream.errors.length > 0, 'the refusal')
      expect(JSON.stringify(stream.errors)).toContain('BAD_USER_INPUT')
      expect(JSON.stringify(stream.errors)).toContain('input.slots')
    } finally {
      await stream.client.dispose()
    }
  })

  it('does not offer a slot overlapping an accepted one: 10:15-10:45 takes 10:00-10:30 and 10:30-11:00', async () => {
    const contact = (await db.prisma.contact.findFirstOrThrow({ where: { userId: alice.id, archived: false } })).id
    const start = Date.parse('2030-01-02T10:15:00Z')
    const accepted = encodeGlobalID('Suggestion', suggestionId(contact, { start: new Date(start), end: new Date(start + 30 * 60_000) }))
    const result = await server.query('mutation($id: ID!) { acceptSuggestion(id: $id) { id } }', { id: accepted }, alice.token)
    expect(result.errors).toBeUndefined()
    const slots = [
      { start: '2030-01-02T10:00:00.000Z', end: '2030-01-02T10:30:00.000Z' },
      { start: '2030-01-02T10:30:00.000Z', end: '2030-01-02T11:00:00.000Z' },
      { start: '2030-01-02T11:00:00.000Z', end: '2030-01-02T11:30:00.000Z' },
    ]
    const stream = live({ maxSuggestions: 5, slots, live: false })
    try {
      await stream.until(() => stream.events.flatMap((e) => e.suggestions ?? []).length >= 5, 'five suggestions')
      expect(stream.events.flatMap((e) => e.suggestions ?? []).map((s) => s.slot)).toEqual([slots[2], null, null, null, null])
    } finally {
      await stream.client.dispose()
    }
  })
})
