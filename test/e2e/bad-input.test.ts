/**
 * Bad input for every argument of the API: each gives a GraphQL error with the
 * right `extensions.code` (a BAD_USER_INPUT with the field it names), no stack,
 * no change, and the server keeps serving. A new argument without its cases
 * fails the coverage check below.
 */
import { isObjectType } from 'graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schema } from '../../src/graphql/schema.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { sseResults } from '../helpers/clients.ts'
import { registerOAuthClient } from '../../src/oauth/clients.ts'


interface Case {
  /** The document; `$v` is the bad value, `$id` a valid id of the viewer's contact, `$sid` of a suggestion for it, `$gid` of a group, `$aid` of a CardDAV account. */
  doc: string
  v: unknown
  code: 'BAD_USER_INPUT' | 'NOT_FOUND' | 'GRAPHQL_VALIDATION_FAILED'
  field?: string
}
const bad = (doc: string, v: unknown, code: Case['code'], field?: string): Case => ({ doc, v, code, ...(field ? { field } : {}) })

const CONTACTS = (type: string, arg: string) => `query($v: ${type}) { contacts(${arg}: $v) { edges { cursor } } }`
const CREATE = 'mutation($v: CreateContactInput!) { createContact(input: $v) { id } }'
const UPDATE = 'mutation($id: ID!, $v: UpdateContactInput!) { updateContact(id: $id, input: $v) { id } }'
const LOG = 'mutation($id: ID!, $v: LogInteractionInput) { logInteraction(contactId: $id, input: $v) { id } }'
const EVENT = 'mutation($v: CalendarEventInput!) { addCalendarEvent(input: $v) { id } }'
const SUGGESTIONS = 'subscription($v: SuggestionsInput) { suggestions(input: $v) { __typename } }'
const long = (n: number) => 'x'.repeat(n)
/** A cursor in the unsigned format of the code before signing (base64url of a JSON array). */
const forged = (fields: unknown[]) => Buffer.from(JSON.stringify(fields)).toString('base64url')
const missingContact = encodeGlobalID('Contact', '00000000-0000-4000-8000-000000000000')
const missingGroup = encodeGlobalID('Group', '00000000-0000-4000-8000-000000000000')
const missingAccount = encodeGlobalID('Account', '00000000-0000-4000-8000-000000000000')
const CONNECT = 'mutation($v: ConnectAccountInput!) { connectAccount(input: $v) { id } }'
const REGISTER_APP = 'mutation($v: RegisterOAuthAppInput!) { registerOAuthApp(input: $v) { clientId } }'
const missingEndpoint = encodeGlobalID('WebhookEndpoint', '00000000-0000-4000-8000-000000000000')
const CREATE_HOOK = 'mutation($v: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $v) { secret } }'
const UPDATE_HOOK = 'mutation($wid: ID!, $v: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $wid, input: $v) { id } }'
const HOOK = { url: 'https://hooks.example.com/in', eventTypes: ['contact.created'] }
const APP = { name: 'CRM', redirectUris: ['https://crm.example.com/cb'], scopes: ['contacts:read'] }
const TRUST = 'mutation($cid: String!, $v: [String!]!) { registerTrustedDocuments(clientId: $cid, documents: $v) }'
const TRUST_APP = 'mutation($v: String!) { registerTrustedDocuments(clientId: $v, documents: ["{ me { email } }"]) }'
const TRUSTED_ONLY = 'mutation($cid: String!, $v: Boolean!) { setTrustedDocumentsOnly(clientId: $cid, enabled: $v) }'
const TRUSTED_ONLY_APP = 'mutation($v: String!) { setTrustedDocumentsOnly(clientId: $v, enabled: true) }'

/** Every argument of every field, as `Type.field(arg)`, with its bad values. */
const CASES: Record<string, Case[]> = {
  'Query.contacts(first)': [bad(CONTACTS('Int', 'first'), 0, 'BAD_USER_INPUT', 'first'), bad(CONTACTS('Int', 'first'), 1001, 'BAD_USER_INPUT', 'first'), bad(CONTACTS('Int', 'first'), 'ten', 'BAD_USER_INPUT', 'first')],
  'Query.contacts(after)': [bad(CONTACTS('String', 'after'), 'garbage', 'BAD_USER_INPUT', 'after'), bad(CONTACTS('String', 'after'), 42, 'BAD_USER_INPUT', 'after'), bad(CONTACTS('String', 'after'), forged(['name', 'asc', 'Ann\u0000', '00000000-0000-4000-8000-000000000000', 1]), 'BAD_USER_INPUT', 'after')],
  'Query.contacts(filter)': [
    bad(CONTACTS('ContactFilter', 'filter'), { group: 'nonsense' }, 'BAD_USER_INPUT', 'filter.group'),
    bad(CONTACTS('ContactFilter', 'filter'), { circle: 'HUGE' }, 'BAD_USER_INPUT', 'filter.circle'),
    bad(CONTACTS('ContactFilter', 'filter'), { search: long(201) }, 'BAD_USER_INPUT', 'filter.search'),
    bad(CONTACTS('ContactFilter', 'filter'), { search: 'Ann\u0000' }, 'BAD_USER_INPUT', 'filter.search'),
    bad(CONTACTS('ContactFilter', 'filter'), { tag: '\ud800' }, 'BAD_USER_INPUT', 'filter.tag'),
    bad(CONTACTS('ContactFilter', 'filter'), { dueBefore: 'soon' }, 'BAD_USER_INPUT', 'filter.dueBefore'),
    bad(CONTACTS('ContactFilter', 'filter'), { notContactedSince: '0000-01-01T00:00:00Z' }, 'BAD_USER_INPUT', 'filter.notContactedSince'),
  ],
  'Query.contacts(orderBy)': [bad(CONTACTS('ContactOrder', 'orderBy'), { field: 'SIZE' }, 'BAD_USER_INPUT', 'orderBy.field'), bad(CONTACTS('ContactOrder', 'orderBy'), {}, 'BAD_USER_INPUT', 'orderBy.field')],
  'Query.node(id)': [
    bad('query($v: ID!) { node(id: $v) { id } }', '!!!', 'BAD_USER_INPUT', 'id'),
    bad('query($v: ID!) { node(id: $v) { id } }', missingContact, 'NOT_FOUND'),
    bad('query($v: ID!) { node(id: $v) { id } }', null, 'BAD_USER_INPUT', 'id'),
    bad('query($v: ID!) { node(id: $v) { id } }', encodeGlobalID('Suggestion', `sg_${'-'.repeat(36)}_none`), 'NOT_FOUND'),
  ],
  'Mutation.createContact(input)': [
    bad(CREATE, { name: '   ' }, 'BAD_USER_INPUT', 'input.name'),
    bad(CREATE, { name: long(201) }, 'BAD_USER_INPUT', 'input.name'),
    bad(CREATE, { name: 'A', email: 'not-an-email' }, 'BAD_USER_INPUT', 'input.email'),
    bad(CREATE, { name: 'A', timezone: 'Mars/Olympus' }, 'BAD_USER_INPUT', 'input.timezone'),
    bad(CREATE, { name: 'A', linkedIn: 'has spaces in it' }, 'BAD_USER_INPUT', 'input.linkedIn'),
    bad(CREATE, { name: 'A', phone: 'call me maybe' }, 'BAD_USER_INPUT', 'input.phone'),
    bad(CREATE, { name: 'A', tags: [''] }, 'BAD_USER_INPUT', 'input.tags.0'),
    bad(CREATE, { name: 'A', customNotes: long(10_001) }, 'BAD_USER_INPUT', 'input.customNotes'),
    bad(CREATE, { name: 'A', lastContactDate: '3026-01-01T00:00:00Z' }, 'BAD_USER_INPUT', 'input.lastContactDate'),
    bad(CREATE, { name: 'A', dunbarCircle: 'HUGE' }, 'BAD_USER_INPUT', 'input.dunbarCircle'),
    bad(CREATE, { email: 'a@example.com' }, 'BAD_USER_INPUT', 'input.name'),
    bad(CREATE, { name: 'Ann\u0000Lee' }, 'BAD_USER_INPUT', 'input.name'),
    bad(CREATE, { name: 'A', lastContactDate: '0000-01-01T00:00:00Z' }, 'BAD_USER_INPUT', 'input.lastContactDate'),
    bad(CREATE, { name: 'A', birthday: '2023-02-29' }, 'BAD_USER_INPUT', 'input.birthday'),
    bad(CREATE, { name: 'A', anniversary: 'June' }, 'BAD_USER_INPUT', 'input.anniversary'),
  ],
  'Mutation.updateContact(id)': [bad('mutation($v: ID!) { updateContact(id: $v, input: { name: "B" }) { id } }', missingContact, 'NOT_FOUND'), bad('mutation($v: ID!) { updateContact(id: $v, input: { name: "B" }) { id } }', 'zzz', 'BAD_USER_INPUT', 'id')],
  'Mutation.updateContact(input)': [bad(UPDATE, { name: null }, 'BAD_USER_INPUT', 'input.name'), bad(UPDATE, { xHandle: 'a b' }, 'BAD_USER_INPUT', 'input.xHandle'), bad(UPDATE, { frequencyPreference: 'HOURLY' }, 'BAD_USER_INPUT', 'input.frequencyPreference')],
  'Mutation.archiveContact(id)': [bad('mutation($v: ID!) { archiveContact(id: $v) { id } }', missingContact, 'NOT_FOUND'), bad('mutation($v: ID!) { archiveContact(id: $v) { id } }', encodeGlobalID('Group', 'x'), 'BAD_USER_INPUT', 'id')],
  'Mutation.archiveContact(archived)': [bad('mutation($id: ID!, $v: Boolean) { archiveContact(id: $id, archived: $v) { id } }', 'yes', 'BAD_USER_INPUT', 'archived')],
  'Mutation.logInteraction(contactId)': [bad('mutation($v: ID!) { logInteraction(contactId: $v) { id } }', missingContact, 'NOT_FOUND')],
  'Mutation.logInteraction(input)': [
    bad(LOG, { occurredAt: '3026-01-01T00:00:00Z' }, 'BAD_USER_INPUT', 'input.occurredAt'),
    bad(LOG, { note: long(10_001) }, 'BAD_USER_INPUT', 'input.note'),
    bad(LOG, { kind: 'TELEPATHY' }, 'BAD_USER_INPUT', 'input.kind'),
  ],
  'Mutation.createGroup(name)': [bad('mutation($v: String!) { createGroup(name: $v) { id } }', '', 'BAD_USER_INPUT', 'name'), bad('mutation($v: String!) { createGroup(name: $v) { id } }', long(201), 'BAD_USER_INPUT', 'name'), bad('mutation($v: String!) { createGroup(name: $v) { id } }', 'G\u0000', 'BAD_USER_INPUT', 'name')],
  'Mutation.createGroup(defaultFrequency)': [bad('mutation($v: FrequencyPreference) { createGroup(name: "G", defaultFrequency: $v) { id } }', 'HOURLY', 'BAD_USER_INPUT', 'defaultFrequency')],
  'Mutation.updateGroup(id)': [
    bad('mutation($v: ID!) { updateGroup(id: $v, input: { name: "G" }) { id } }', missingGroup, 'NOT_FOUND'),
    bad('mutation($v: ID!) { updateGroup(id: $v, input: { name: "G" }) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.updateGroup(input)': [
    bad('mutation($gid: ID!, $v: UpdateGroupInput!) { updateGroup(id: $gid, input: $v) { id } }', { name: ' ' }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($gid: ID!, $v: UpdateGroupInput!) { updateGroup(id: $gid, input: $v) { id } }', { name: null }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($gid: ID!, $v: UpdateGroupInput!) { updateGroup(id: $gid, input: $v) { id } }', { name: 'Work' }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($gid: ID!, $v: UpdateGroupInput!) { updateGroup(id: $gid, input: $v) { id } }', { defaultFrequency: 'HOURLY' }, 'BAD_USER_INPUT', 'input.defaultFrequency'),
  ],
  'Mutation.deleteGroup(id)': [bad('mutation($v: ID!) { deleteGroup(id: $v) }', missingContact, 'BAD_USER_INPUT', 'id'), bad('mutation($v: ID!) { deleteGroup(id: $v) }', 'zzz', 'BAD_USER_INPUT', 'id')],
  'Mutation.renameTag(from)': [bad('mutation($v: String!) { renameTag(from: $v, to: "t") }', '', 'BAD_USER_INPUT', 'from'), bad('mutation($v: String!) { renameTag(from: $v, to: "t") }', long(51), 'BAD_USER_INPUT', 'from')],
  'Mutation.renameTag(to)': [bad('mutation($v: String!) { renameTag(from: "friend", to: $v) }', ' ', 'BAD_USER_INPUT', 'to'), bad('mutation($v: String!) { renameTag(from: "friend", to: $v) }', 't\u0000', 'BAD_USER_INPUT', 'to')],
  'Mutation.deleteTag(name)': [bad('mutation($v: String!) { deleteTag(name: $v) }', '\ud800', 'BAD_USER_INPUT', 'name'), bad('mutation($v: String!) { deleteTag(name: $v) }', long(51), 'BAD_USER_INPUT', 'name')],
  'Contact.interactions(first)': [bad('query($id: ID!, $v: Int) { node(id: $id) { ... on Contact { interactions(first: $v) { totalCount } } } }', 0, 'BAD_USER_INPUT', 'first'), bad('query($id: ID!, $v: Int) { node(id: $id) { ... on Contact { interactions(first: $v) { totalCount } } } }', 101, 'BAD_USER_INPUT', 'first')],
  'Contact.interactions(after)': [bad('query($id: ID!, $v: String) { node(id: $id) { ... on Contact { interactions(after: $v) { totalCount } } } }', 'garbage', 'BAD_USER_INPUT', 'after')],
  'Query.suggestionsByStatus(statuses)': [
    bad('query($v: [SuggestionStatus!]!) { suggestionsByStatus(statuses: $v) { totalCount } }', ['PENDING'], 'BAD_USER_INPUT', 'statuses'),
    bad('query($v: [SuggestionStatus!]!) { suggestionsByStatus(statuses: $v) { totalCount } }', [], 'BAD_USER_INPUT', 'statuses'),
    bad('query($v: [SuggestionStatus!]!) { suggestionsByStatus(statuses: $v) { totalCount } }', ['GONE'], 'BAD_USER_INPUT', 'statuses.0'),
  ],
  'Query.suggestionsByStatus(first)': [bad('query($v: Int) { suggestionsByStatus(statuses: [DISMISSED], first: $v) { totalCount } }', 101, 'BAD_USER_INPUT', 'first')],
  'Query.suggestionsByStatus(after)': [bad('query($v: String) { suggestionsByStatus(statuses: [DISMISSED], after: $v) { totalCount } }', 'garbage', 'BAD_USER_INPUT', 'after')],
  'Mutation.undoSuggestionAction(id)': [
    bad('mutation($v: ID!) { undoSuggestionAction(id: $v) { id } }', encodeGlobalID('Suggestion', suggestionId('00000000-0000-4000-8000-000000000000', null)), 'NOT_FOUND'),
    bad('mutation($v: ID!) { undoSuggestionAction(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
    // A suggestion of the viewer's contact with no status: nothing to undo (`$v` only switches the field on).
    bad('mutation($sid: ID!, $v: Boolean!) { undoSuggestionAction(id: $sid) @include(if: $v) { id } }', true, 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.restoreSuggestion(id)': [
    bad('mutation($v: ID!) { restoreSuggestion(id: $v) { id } }', encodeGlobalID('Suggestion', `sg_${'a'.repeat(36)}_1_2`), 'NOT_FOUND'),
    bad('mutation($v: ID!) { restoreSuggestion(id: $v) { id } }', '%%%', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.setContactGroups(contactId)': [bad('mutation($v: ID!) { setContactGroups(contactId: $v, groupIds: []) { id } }', missingContact, 'NOT_FOUND')],
  'Mutation.setContactGroups(groupIds)': [
    bad('mutation($id: ID!, $v: [ID!]!) { setContactGroups(contactId: $id, groupIds: $v) { id } }', [encodeGlobalID('Group', '00000000-0000-4000-8000-000000000000')], 'NOT_FOUND'),
    bad('mutation($id: ID!, $v: [ID!]!) { setContactGroups(contactId: $id, groupIds: $v) { id } }', ['nonsense!'], 'BAD_USER_INPUT', 'groupIds.0'),
  ],
  'Mutation.setAvailability(timezone)': [bad('mutation($v: String) { setAvailability(timezone: $v, windows: []) { weekday } }', 'Nowhere/Land', 'BAD_USER_INPUT', 'timezone')],
  'Mutation.setAvailability(windows)': [
    bad('mutation($v: [AvailabilityWindowInput!]!) { setAvailability(windows: $v) { weekday } }', [{ weekday: 0, startMinute: 0, endMinute: 60 }], 'BAD_USER_INPUT', 'windows.0.weekday'),
    bad('mutation($v: [AvailabilityWindowInput!]!) { setAvailability(windows: $v) { weekday } }', [{ weekday: 1, startMinute: 600, endMinute: 540 }], 'BAD_USER_INPUT', 'windows.0.endMinute'),
    bad('mutation($v: [AvailabilityWindowInput!]!) { setAvailability(windows: $v) { weekday } }', [{ weekday: 1, startMinute: 0, endMinute: 1441 }], 'BAD_USER_INPUT', 'windows.0.endMinute'),
  ],
  'Mutation.addCalendarEvent(input)': [
    bad(EVENT, { startsAt: '2026-12-01T10:00:00Z', endsAt: '2026-12-01T09:00:00Z' }, 'BAD_USER_INPUT', 'input.endsAt'),
    bad(EVENT, { startsAt: 'tomorrow', endsAt: '2026-12-01T09:00:00Z' }, 'BAD_USER_INPUT', 'input.startsAt'),
    bad(EVENT, { startsAt: '2026-12-01T09:00:00Z', endsAt: '2026-12-01T10:00:00Z', title: long(501) }, 'BAD_USER_INPUT', 'input.title'),
    bad(EVENT, { startsAt: '0000-01-01T00:00:00Z', endsAt: '0000-01-01T01:00:00Z' }, 'BAD_USER_INPUT', 'input.endsAt'),
    bad(EVENT, { startsAt: '2026-12-01T09:00:00Z', endsAt: '2026-12-01T10:00:00Z', title: '\u0000' }, 'BAD_USER_INPUT', 'input.title'),
  ],
  'Mutation.removeCalendarEvent(id)': [bad('mutation($v: ID!) { removeCalendarEvent(id: $v) }', 'not-an-event', 'NOT_FOUND')],
  'Mutation.acceptSuggestion(id)': [bad('mutation($v: ID!) { acceptSuggestion(id: $v) { id } }', encodeGlobalID('Suggestion', 'sg_nope' /* malformed on purpose: no contact, no slot */), 'NOT_FOUND'), bad('mutation($v: ID!) { acceptSuggestion(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id')],
  'Mutation.dismissSuggestion(id)': [
    bad('mutation($v: ID!) { dismissSuggestion(id: $v) { id } }', encodeGlobalID('Suggestion', suggestionId('00000000-0000-4000-8000-000000000000', null)), 'NOT_FOUND'),
    // Malformed on purpose: the shape of an id (36 hex digits and dashes) that is no uuid; PostgreSQL would refuse it.
    bad('mutation($v: ID!) { dismissSuggestion(id: $v) { id } }', encodeGlobalID('Suggestion', `sg_${'-'.repeat(36)}_none`), 'NOT_FOUND'),
    bad('mutation($v: ID!) { dismissSuggestion(id: $v) { id } }', encodeGlobalID('Suggestion', `sg_${'a'.repeat(36)}_1_2`), 'NOT_FOUND'),
  ],
  'Mutation.snoozeSuggestion(id)': [bad('mutation($v: ID!) { snoozeSuggestion(id: $v, until: "2999-01-01T00:00:00Z") { id } }', '%%%', 'BAD_USER_INPUT', 'id')],
  'Mutation.snoozeSuggestion(until)': [
    bad('mutation($sid: ID!, $v: DateTime!) { snoozeSuggestion(id: $sid, until: $v) { id } }', '2000-01-01T00:00:00Z', 'BAD_USER_INPUT', 'until'),
    bad('mutation($sid: ID!, $v: DateTime!) { snoozeSuggestion(id: $sid, until: $v) { id } }', 'next week', 'BAD_USER_INPUT', 'until'),
    bad('mutation($sid: ID!, $v: DateTime!) { snoozeSuggestion(id: $sid, until: $v) { id } }', '0000-01-01T00:00:00Z', 'BAD_USER_INPUT', 'until'),
  ],
  'Mutation.revokeToken(id)': [
    bad('mutation($v: ID!) { revokeToken(id: $v) { id } }', encodeGlobalID('AuthToken', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeToken(id: $v) { id } }', encodeGlobalID('AuthToken', 'not-a-uuid'), 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeToken(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
    bad('mutation($v: ID!) { revokeToken(id: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.createApiKey(input)': [
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: '', scopes: ['contacts:read'] }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: long(101), scopes: ['contacts:read'] }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: 'K\u0000', scopes: ['contacts:read'] }, 'BAD_USER_INPUT', 'input.name'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: 'K', scopes: ['contacts:reed'] }, 'BAD_USER_INPUT', 'input.scopes'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: 'K', scopes: [] }, 'BAD_USER_INPUT', 'input.scopes'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: 'K', scopes: ['contacts:read'], expiresInDays: 0 }, 'BAD_USER_INPUT', 'input.expiresInDays'),
    bad('mutation($v: CreateApiKeyInput!) { createApiKey(input: $v) { key } }', { name: 'K', scopes: ['contacts:read'], expiresInDays: 366 }, 'BAD_USER_INPUT', 'input.expiresInDays'),
  ],
  'Mutation.revokeApiKey(id)': [
    bad('mutation($v: ID!) { revokeApiKey(id: $v) { id } }', encodeGlobalID('ApiKey', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeApiKey(id: $v) { id } }', encodeGlobalID('ApiKey', 'not-a-uuid'), 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeApiKey(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
    bad('mutation($v: ID!) { revokeApiKey(id: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Query.import(id)': [
    bad('query($v: ID!) { import(id: $v) { id } }', encodeGlobalID('Import', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'),
    bad('query($v: ID!) { import(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
    bad('query($v: ID!) { import(id: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Query.imports(first)': [bad('query($v: Int) { imports(first: $v) { edges { cursor } } }', 0, 'BAD_USER_INPUT', 'first'), bad('query($v: Int) { imports(first: $v) { edges { cursor } } }', 101, 'BAD_USER_INPUT', 'first')],
  'Query.imports(after)': [bad('query($v: String) { imports(after: $v) { edges { cursor } } }', 'garbage', 'BAD_USER_INPUT', 'after'), bad('query($v: String) { imports(after: $v) { edges { cursor } } }', forged(['x']), 'BAD_USER_INPUT', 'after')],
  'Import.errors(first)': [bad('query($v: Int) { imports { edges { node { errors(first: $v) { edges { cursor } } } } } }', -1, 'BAD_USER_INPUT', 'first')],
  'Import.errors(after)': [bad('query($v: String) { imports { edges { node { errors(after: $v) { edges { cursor } } } } } }', 'garbage', 'BAD_USER_INPUT', 'after')],
  'Mutation.createContact(account)': [
    bad('mutation($v: ID) { createContact(input: { name: "A" }, account: $v) { id } }', missingAccount, 'NOT_FOUND'),
    bad('mutation($v: ID) { createContact(input: { name: "A" }, account: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'account'),
    bad('mutation($v: ID) { createContact(input: { name: "A" }, account: $v) { id } }', missingGroup, 'BAD_USER_INPUT', 'account'),
  ],
  'Mutation.connectAccount(input)': [
    bad(CONNECT, { kind: 'CARDDAV', url: 'ftp://dav.example.com/', username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CONNECT, { kind: 'CARDDAV', url: 'https://user:secret@dav.example.com/', username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CONNECT, { kind: 'CARDDAV', url: 'http://127.0.0.1:1/', username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CONNECT, { kind: 'CALDAV', url: 'http://169.254.169.254/latest/', username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CONNECT, { kind: 'CARDDAV', url: `https://dav.example.com/${long(2100)}`, username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CONNECT, { kind: 'CARDDAV', url: 'https://dav.example.com/', username: 'a' }, 'BAD_USER_INPUT', 'input.password'),
    bad(CONNECT, { kind: 'CARDDAV', url: 'https://dav.example.com/', username: 'a', password: long(1025) }, 'BAD_USER_INPUT', 'input.password'),
    bad(CONNECT, { kind: 'WEBDAV', url: 'https://dav.example.com/', username: 'a', password: 'b' }, 'BAD_USER_INPUT', 'input.kind'),
  ],
  'Mutation.setAccountCollections(id)': [
    bad('mutation($v: ID!) { setAccountCollections(id: $v, collectionUrls: []) { id } }', missingAccount, 'NOT_FOUND'),
    bad('mutation($v: ID!) { setAccountCollections(id: $v, collectionUrls: []) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.setAccountCollections(collectionUrls)': [
    bad('mutation($aid: ID!, $v: [String!]!) { setAccountCollections(id: $aid, collectionUrls: $v) { id } }', ['https://elsewhere.example.com/book/'], 'BAD_USER_INPUT', 'collectionUrls'),
    bad('mutation($aid: ID!, $v: [String!]!) { setAccountCollections(id: $aid, collectionUrls: $v) { id } }', [null], 'BAD_USER_INPUT', 'collectionUrls.0'),
  ],
  'Mutation.setAccountWriteCalendar(id)': [
    bad('mutation($v: ID!) { setAccountWriteCalendar(id: $v, calendarUrl: null) { id } }', missingAccount, 'NOT_FOUND'),
    bad('mutation($v: ID!) { setAccountWriteCalendar(id: $v, calendarUrl: null) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.setAccountWriteCalendar(calendarUrl)': [
    bad('mutation($aid: ID!, $v: String) { setAccountWriteCalendar(id: $aid, calendarUrl: $v) { id } }', 'https://dav.example.com/book/', 'BAD_USER_INPUT', 'calendarUrl'),
    bad('mutation($aid: ID!, $v: String) { setAccountWriteCalendar(id: $aid, calendarUrl: $v) { id } }', 42, 'BAD_USER_INPUT', 'calendarUrl'),
  ],
  'Mutation.syncAccount(id)': [
    bad('mutation($v: ID!) { syncAccount(id: $v) { id } }', missingAccount, 'NOT_FOUND'),
    bad('mutation($v: ID!) { syncAccount(id: $v) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.disconnectAccount(id)': [
    bad('mutation($v: ID!) { disconnectAccount(id: $v) }', missingAccount, 'NOT_FOUND'),
    bad('mutation($v: ID!) { disconnectAccount(id: $v) }', '!!!', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.resolveSyncConflict(id)': [
    bad('mutation($v: ID!) { resolveSyncConflict(id: $v, keep: LOCAL) { id } }', '00000000-0000-4000-8000-000000000000', 'NOT_FOUND'),
    bad('mutation($v: ID!) { resolveSyncConflict(id: $v, keep: REMOTE) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.resolveSyncConflict(keep)': [
    bad('mutation($v: SyncConflictChoice!) { resolveSyncConflict(id: "00000000-0000-4000-8000-000000000000", keep: $v) { id } }', 'BOTH', 'BAD_USER_INPUT', 'keep'),
    bad('mutation($v: SyncConflictChoice!) { resolveSyncConflict(id: "00000000-0000-4000-8000-000000000000", keep: $v) { id } }', null, 'BAD_USER_INPUT', 'keep'),
  ],
  'Query.syncConflicts(first)': [
    bad('query($v: Int) { syncConflicts(first: $v) { id } }', 0, 'BAD_USER_INPUT', 'first'),
    bad('query($v: Int) { syncConflicts(first: $v) { id } }', 100_000, 'BAD_USER_INPUT', 'first'),
  ],
  'Subscription.syncProgress(accountId)': [
    bad('subscription($v: ID!) { syncProgress(accountId: $v) { phase } }', missingAccount, 'NOT_FOUND'),
    bad('subscription($v: ID!) { syncProgress(accountId: $v) { phase } }', 'zzz', 'BAD_USER_INPUT', 'accountId'),
  ],
  'Subscription.importProgress(id)': [
    bad('subscription($v: ID!) { importProgress(id: $v) { id } }', encodeGlobalID('Import', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'),
    bad('subscription($v: ID!) { importProgress(id: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.importContacts(file)': [
    bad('mutation($v: File!) { importContacts(file: $v) { id } }', 'BEGIN:VCARD', 'BAD_USER_INPUT', 'file'),
    bad('mutation($v: File!) { importContacts(file: $v) { id } }', { importId: '00000000-0000-4000-8000-000000000000' }, 'BAD_USER_INPUT', 'file'),
  ],
  'Mutation.importCalendar(file)': [bad('mutation($v: File!) { importCalendar(file: $v) { id } }', null, 'BAD_USER_INPUT', 'file')],
  'Mutation.registerOAuthApp(input)': [
    bad(REGISTER_APP, { ...APP, name: '   ' }, 'BAD_USER_INPUT', 'input.name'),
    bad(REGISTER_APP, { ...APP, name: 'CRM\u0000' }, 'BAD_USER_INPUT', 'input.name'),
    bad(REGISTER_APP, { ...APP, redirectUris: [] }, 'BAD_USER_INPUT', 'input.redirectUris'),
    bad(REGISTER_APP, { ...APP, redirectUris: ['http://crm.example.com/cb'] }, 'BAD_USER_INPUT', 'input.redirectUris'),
    bad(REGISTER_APP, { ...APP, redirectUris: ['https://crm.example.com/cb#frag'] }, 'BAD_USER_INPUT', 'input.redirectUris'),
    bad(REGISTER_APP, { ...APP, scopes: ['admin'] }, 'BAD_USER_INPUT', 'input.scopes'),
    bad(REGISTER_APP, { ...APP, scopes: [] }, 'BAD_USER_INPUT', 'input.scopes'),
  ],
  'Mutation.revokeConnectedApp(id)': [
    bad('mutation($v: ID!) { revokeConnectedApp(id: $v) }', 'no-such-grant', 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeConnectedApp(id: $v) }', 'x\u0000', 'NOT_FOUND'),
    bad('mutation($v: ID!) { revokeConnectedApp(id: $v) }', long(10_000), 'NOT_FOUND'),
  ],
  'Mutation.registerTrustedDocuments(clientId)': [
    bad(TRUST_APP, 'app_nope', 'NOT_FOUND'),
    bad(TRUST_APP, 'x\u0000', 'NOT_FOUND'),
    bad(TRUST_APP, long(10_000), 'NOT_FOUND'),
  ],
  'Mutation.registerTrustedDocuments(documents)': [
    bad(TRUST, [], 'BAD_USER_INPUT', 'documents'),
    bad(TRUST, Array.from({ length: 201 }, (_, i) => `{ me { email } } # ${i}`), 'BAD_USER_INPUT', 'documents'),
    bad(TRUST, ['{ me { email } }', '{ nope }'], 'BAD_USER_INPUT', 'documents.1'),
    bad(TRUST, ['{ me { email '], 'BAD_USER_INPUT', 'documents.0'),
    bad(TRUST, [`{ me { email } } # ${long(40_000)}`], 'BAD_USER_INPUT', 'documents.0'),
    bad(TRUST, ['   '], 'BAD_USER_INPUT', 'documents.0'),
    bad(TRUST, [`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(' ')} }`], 'BAD_USER_INPUT', 'documents.0'),
    bad(TRUST, [null], 'BAD_USER_INPUT', 'documents.0'),
  ],
  'Mutation.setTrustedDocumentsOnly(clientId)': [bad(TRUSTED_ONLY_APP, 'app_nope', 'NOT_FOUND'), bad(TRUSTED_ONLY_APP, long(10_000), 'NOT_FOUND')],
  'Mutation.setTrustedDocumentsOnly(enabled)': [bad(TRUSTED_ONLY, 'yes', 'BAD_USER_INPUT', 'enabled'), bad(TRUSTED_ONLY, null, 'BAD_USER_INPUT', 'enabled')],
  'Mutation.createWebhookEndpoint(input)': [
    bad(CREATE_HOOK, { ...HOOK, url: 'ftp://hooks.example.com/' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'not a url' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: `https://hooks.example.com/${long(2100)}` }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'http://127.0.0.1:1/hook' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'http://169.254.169.254/latest/' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'http://[::1]/hook' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'https://10.0.0.1/hook' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, url: 'https://hooks.example.com/\u0000' }, 'BAD_USER_INPUT', 'input.url'),
    bad(CREATE_HOOK, { ...HOOK, eventTypes: [] }, 'BAD_USER_INPUT', 'input.eventTypes'),
    bad(CREATE_HOOK, { ...HOOK, eventTypes: ['contact.deleted'] }, 'BAD_USER_INPUT', 'input.eventTypes.0'),
    bad(CREATE_HOOK, { ...HOOK, eventTypes: ['contact.created', long(100)] }, 'BAD_USER_INPUT', 'input.eventTypes.1'),
    bad(CREATE_HOOK, { ...HOOK, eventTypes: null }, 'BAD_USER_INPUT', 'input.eventTypes'),
    bad(CREATE_HOOK, { ...HOOK, description: long(501) }, 'BAD_USER_INPUT', 'input.description'),
    bad(CREATE_HOOK, { ...HOOK, description: 'a\u0000' }, 'BAD_USER_INPUT', 'input.description'),
  ],
  'Mutation.updateWebhookEndpoint(id)': [
    bad('mutation($v: ID!) { updateWebhookEndpoint(id: $v, input: {}) { id } }', missingEndpoint, 'NOT_FOUND'),
    bad('mutation($v: ID!) { updateWebhookEndpoint(id: $v, input: {}) { id } }', missingContact, 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.updateWebhookEndpoint(input)': [
    bad(UPDATE_HOOK, { url: 'http://192.168.1.1/hook' }, 'BAD_USER_INPUT', 'input.url'),
    bad(UPDATE_HOOK, { eventTypes: ['everything'] }, 'BAD_USER_INPUT', 'input.eventTypes.0'),
    bad(UPDATE_HOOK, { description: long(501) }, 'BAD_USER_INPUT', 'input.description'),
    bad(UPDATE_HOOK, { paused: 'yes' }, 'BAD_USER_INPUT', 'input.paused'),
  ],
  'Mutation.pauseWebhookEndpoint(id)': [
    bad('mutation($v: ID!) { pauseWebhookEndpoint(id: $v) { id } }', missingEndpoint, 'NOT_FOUND'),
    bad('mutation($v: ID!) { pauseWebhookEndpoint(id: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.rotateWebhookSecret(id)': [
    bad('mutation($v: ID!) { rotateWebhookSecret(id: $v) { secret } }', missingEndpoint, 'NOT_FOUND'),
    bad('mutation($v: ID!) { rotateWebhookSecret(id: $v) { secret } }', missingAccount, 'BAD_USER_INPUT', 'id'),
  ],
  'Mutation.deleteWebhookEndpoint(id)': [
    bad('mutation($v: ID!) { deleteWebhookEndpoint(id: $v) }', missingEndpoint, 'NOT_FOUND'),
    bad('mutation($v: ID!) { deleteWebhookEndpoint(id: $v) }', '!!!', 'BAD_USER_INPUT', 'id'),
  ],
  'WebhookEndpoint.deliveries(first)': [
    bad('query($v: Int) { webhookEndpoints { deliveries(first: $v) { edges { cursor } } } }', 0, 'BAD_USER_INPUT', 'first'),
    bad('query($v: Int) { webhookEndpoints { deliveries(first: $v) { edges { cursor } } } }', 101, 'BAD_USER_INPUT', 'first'),
  ],
  'WebhookEndpoint.deliveries(after)': [
    bad('query($v: String) { webhookEndpoints { deliveries(after: $v) { edges { cursor } } } }', 'garbage', 'BAD_USER_INPUT', 'after'),
    bad('query($v: String) { webhookEndpoints { deliveries(after: $v) { edges { cursor } } } }', forged([{ id: '00000000-0000-4000-8000-000000000000' }]), 'BAD_USER_INPUT', 'after'),
  ],
  'Mutation.redeliverWebhook(deliveryId)': [
    bad('mutation($v: ID!) { redeliverWebhook(deliveryId: $v) { id } }', encodeGlobalID('WebhookDelivery', '00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'),
    bad('mutation($v: ID!) { redeliverWebhook(deliveryId: $v) { id } }', missingEndpoint, 'BAD_USER_INPUT', 'deliveryId'),
  ],
  'Mutation.sendTestWebhook(endpointId)': [
    bad('mutation($v: ID!) { sendTestWebhook(endpointId: $v) { id } }', missingEndpoint, 'NOT_FOUND'),
    bad('mutation($v: ID!) { sendTestWebhook(endpointId: $v) { id } }', 'zzz', 'BAD_USER_INPUT', 'endpointId'),
  ],
  'Subscription.suggestions(input)': [
    bad(SUGGESTIONS, { maxSuggestions: 0 }, 'BAD_USER_INPUT', 'maxSuggestions'),
    bad(SUGGESTIONS, { maxSuggestions: 501 }, 'BAD_USER_INPUT', 'maxSuggestions'),
    bad(SUGGESTIONS, { batchSize: 1001 }, 'BAD_USER_INPUT', 'batchSize'),
    bad(SUGGESTIONS, { slots: [{ start: '2026-12-01T10:00:00Z', end: '2026-12-01T09:00:00Z' }] }, 'BAD_USER_INPUT', 'input.slots.0'),
    bad(SUGGESTIONS, { resumeFrom: 'garbage' }, 'BAD_USER_INPUT', 'input.resumeFrom'),
    bad(SUGGESTIONS, { live: 'sometimes' }, 'BAD_USER_INPUT', 'input.live'),
    bad(SUGGESTIONS, { resumeFrom: forged(['s1', 1e300, 1, 5, '00000000-0000-4000-8000-000000000000']) }, 'BAD_USER_INPUT', 'input.resumeFrom'),
    bad(SUGGESTIONS, { live: false, slots: [{ start: '0000-01-01T00:00:00Z', end: '2026-12-01T09:00:00Z' }] }, 'BAD_USER_INPUT', 'input.slots.0.start'),
  ],
}

describe('bad input for every argument', () => {
  let db: TestDatabase
  let server: TestServer
  let alice: FixtureUser
  let ids: { id: string; sid: string; gid: string; aid: string; cid: string; wid: string }

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 5)
    // A developer, so registerOAuthApp's input is reached.
    await db.prisma.user.update({ where: { id: alice.id }, data: { isDeveloper: true } })
    server = await startTestServer(db)
    const [contact] = await db.prisma.contact.findMany({ where: { userId: alice.id }, take: 1 })
    // A CardDAV account (never reached: its server is made up), so the arguments that need one are reached.
    const account = await db.prisma.account.create({
      data: { userId: alice.id, kind: 'CARDDAV', url: 'https://dav.example.com/', auth: 'BASIC', credentials: 'sealed', collections: { create: [{ url: 'https://dav.example.com/book/', kind: 'ADDRESS_BOOK' }] } },
    })
    // An app of alice's, so the arguments of the trusted-document mutations are reached.
    const app = await registerOAuthClient(db.prisma, { ...APP, ownerId: alice.id })
    // A webhook endpoint (never delivered to), so updateWebhookEndpoint's input is reached.
    const endpoint = await db.prisma.webhookEndpoint.create({ data: { userId: alice.id, url: 'https://hooks.example.com/in', eventTypes: ['contact.created'], secret: 'sealed' } })
    ids = {
      id: encodeGlobalID('Contact', contact!.id),
      sid: encodeGlobalID('Suggestion', suggestionId(contact!.id, null)),
      gid: encodeGlobalID('Group', alice.groupIds[0]!),
      aid: encodeGlobalID('Account', account.id),
      cid: app.clientId,
      wid: encodeGlobalID('WebhookEndpoint', endpoint.id),
    }
    // An import, so the arguments of Import.errors are reached.
    await db.prisma.import.create({ data: { userId: alice.id, kind: 'CONTACTS', format: 'csv', status: 'SUCCEEDED', byteSize: 1 } })
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  it('has cases for every argument of the schema', () => {
    const args = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter((type) => !type.name.startsWith('__'))
      .flatMap((type) => Object.values(type.getFields()).flatMap((field) => field.args.map((arg) => `${type.name}.${field.name}(${arg.name})`)))
    expect(Object.keys(CASES).sort()).toEqual(args.sort())
  })

  /** The first error of an operation; subscriptions over SSE, the rest over POST. */
  async function firstError(doc: string, variables: Record<string, unknown>): Promise<NonNullable<GraphQLResponse['errors']>[number] | undefined> {
    if (!doc.startsWith('subscription')) return (await server.query(doc, variables, alice.token)).errors?.[0]
    const [first] = await sseResults(server.url, { query: doc, variables }, alice.token, () => true)
    return first!.errors?.[0]
  }

  it.each(Object.entries(CASES).flatMap(([arg, cases]) => cases.map((c, i) => [`${arg} #${i + 1}`, c] as const)))('%s', async (_name, c) => {
    const contactsBefore = await db.prisma.contact.findMany({ where: { userId: alice.id }, orderBy: { id: 'asc' } })
    const variables = Object.fromEntries(Object.entries(ids).filter(([name]) => c.doc.includes(`$${name}:`)))
    const error = await firstError(c.doc, { ...variables, v: c.v })
    expect(error, JSON.stringify(c.v)).toBeDefined()
    expect(error!.extensions?.code, error!.message).toBe(c.code)
    // Every BAD_USER_INPUT names the argument or input field at fault (global ids and variables of the
    // wrong type included): a form shows the message next to it.
    if (c.code === 'BAD_USER_INPUT') expect(error!.extensions?.field, error!.message).toBe(c.field)
    expect(JSON.stringify(error)).not.toMatch(/\bat .+\.ts:\d+|prisma|SELECT|stack/i)
    // Nothing changed, and the server still answers.
    expect(await db.prisma.contact.findMany({ where: { userId: alice.id }, orderBy: { id: 'asc' } })).toEqual(contactsBefore)
    expect((await server.query('{ me { email } }', {}, alice.token)).data).toEqual({ me: { email: 'alice@example.com' } })
  })
})
