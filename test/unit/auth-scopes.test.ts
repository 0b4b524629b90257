/**
 * Authentication and authorization are declared, not hand-written: every root field carries what it
 * needs (@pothos/plugin-scope-auth): any credential, a partner scope, or the user's own session. An
 * anonymous request is refused before any resolver or subscribe body runs with UNAUTHENTICATED; a
 * credential short of a scope with FORBIDDEN naming it. No database: the refusal comes first.
 */
import { parse, subscribe, graphql, type GraphQLObjectType } from 'graphql'
import { describe, expect, it } from 'vitest'
import type { Credential } from '../../src/auth/authenticate.ts'
import { SCOPES, type Scope } from '../../src/auth/scopes.ts'
import { ClientError } from '../../src/errors.ts'
import { UNAUTHENTICATED_MESSAGE } from '../../src/graphql/context.ts'
import { schema } from '../../src/graphql/schema.ts'
import { fieldAuthScopes, NODE_REQUIREMENTS, SESSION_ONLY_MESSAGE } from '../../src/graphql/scope-auth.ts'

const rootTypes = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[]
const noDatabase = new Proxy({}, { get: () => { throw new Error('the database was reached') } })
const anonymous = { userId: null, credential: null, prisma: noDatabase }
const apiKey = (scopes: Scope[]): { userId: string; credential: Credential; prisma: unknown } => ({
  userId: '00000000-0000-4000-8000-000000000001',
  credential: { userId: '00000000-0000-4000-8000-000000000001', tokenId: 't', kind: 'apiKey', scopes: new Set(scopes), expiresAt: null },
  prisma: noDatabase,
})

/** What every root field needs: a change here is a change of what partners may do, so it is deliberate. */
const EXPECTED: Record<string, { scope: Scope } | { session: true } | { authenticated: true }> = {
  'Query.me': { authenticated: true },
  'Query.node': { authenticated: true },
  'Query.contacts': { scope: 'contacts:read' },
  'Query.syncConflicts': { scope: 'contacts:read' },
  'Query.suggestionsByStatus': { scope: 'suggestions:read' },
  'Query.calendarFeed': { scope: 'calendar:read' },
  'Query.import': { scope: 'imports:write' },
  'Query.imports': { scope: 'imports:write' },
  'Query.accounts': { session: true },
  'Query.tokens': { session: true },
  'Query.apiKeys': { session: true },
  'Query.connectedApps': { session: true },
  'Query.webhookEndpoints': { scope: 'webhooks:manage' },
  'Mutation.createContact': { scope: 'contacts:write' },
  'Mutation.updateContact': { scope: 'contacts:write' },
  'Mutation.archiveContact': { scope: 'contacts:write' },
  'Mutation.logInteraction': { scope: 'contacts:write' },
  'Mutation.setContactGroups': { scope: 'contacts:write' },
  'Mutation.renameTag': { scope: 'contacts:write' },
  'Mutation.deleteTag': { scope: 'contacts:write' },
  'Mutation.createGroup': { scope: 'contacts:write' },
  'Mutation.updateGroup': { scope: 'contacts:write' },
  'Mutation.deleteGroup': { scope: 'contacts:write' },
  'Mutation.acceptSuggestion': { scope: 'suggestions:write' },
  'Mutation.dismissSuggestion': { scope: 'suggestions:write' },
  'Mutation.snoozeSuggestion': { scope: 'suggestions:write' },
  'Mutation.restoreSuggestion': { scope: 'suggestions:write' },
  'Mutation.undoSuggestionAction': { scope: 'suggestions:write' },
  'Mutation.setAvailability': { scope: 'calendar:write' },
  'Mutation.addCalendarEvent': { scope: 'calendar:write' },
  'Mutation.removeCalendarEvent': { scope: 'calendar:write' },
  'Mutation.rotateCalendarFeed': { session: true },
  'Mutation.revokeCalendarFeed': { session: true },
  'Mutation.importContacts': { scope: 'imports:write' },
  'Mutation.importCalendar': { scope: 'imports:write' },
  'Mutation.connectAccount': { session: true },
  'Mutation.setAccountCollections': { session: true },
  'Mutation.setAccountWriteCalendar': { session: true },
  'Mutation.syncAccount': { session: true },
  'Mutation.disconnectAccount': { session: true },
  'Mutation.resolveSyncConflict': { session: true },
  'Mutation.revokeToken': { session: true },
  'Mutation.createApiKey': { session: true },
  'Mutation.revokeApiKey': { session: true },
  'Mutation.revokeConnectedApp': { session: true },
  'Mutation.registerOAuthApp': { session: true },
  'Mutation.registerTrustedDocuments': { session: true },
  'Mutation.setTrustedDocumentsOnly': { session: true },
  'Mutation.createWebhookEndpoint': { scope: 'webhooks:manage' },
  'Mutation.updateWebhookEndpoint': { scope: 'webhooks:manage' },
  'Mutation.pauseWebhookEndpoint': { scope: 'webhooks:manage' },
  'Mutation.rotateWebhookSecret': { scope: 'webhooks:manage' },
  'Mutation.deleteWebhookEndpoint': { scope: 'webhooks:manage' },
  'Mutation.redeliverWebhook': { scope: 'webhooks:manage' },
  'Mutation.sendTestWebhook': { scope: 'webhooks:manage' },
  'Subscription.suggestions': { scope: 'suggestions:subscribe' },
  'Subscription.importProgress': { scope: 'imports:write' },
  'Subscription.syncProgress': { session: true },
}

const rootFields = rootTypes.flatMap((type) => Object.values(type.getFields()).map((field) => [`${type.name}.${field.name}`, field] as const))

describe('what each root field needs', () => {
  it.each(rootFields)('%s declares it', (name, field) => {
    expect(fieldAuthScopes(field), `${name} is missing from EXPECTED: decide its scope`).toEqual(EXPECTED[name])
  })

  it('every scope guards at least one root field (no scope is decoration)', () => {
    const used = new Set(rootFields.map(([, field]) => fieldAuthScopes(field)?.scope))
    // schema:introspect guards the introspection meta-fields (__schema, __type), through a validation rule:
    // test/e2e/trusted-documents.test.ts shows it refusing and granting.
    expect(SCOPES.filter((scope) => !used.has(scope) && scope !== 'schema:introspect')).toEqual([])
  })

  it('fields behind a scope or a session are nullable on Query, so that a refusal leaves the rest of the answer', () => {
    const query = schema.getQueryType()!
    const nonNull = Object.values(query.getFields()).filter((field) => {
      const scopes = fieldAuthScopes(field)
      return (scopes?.scope || scopes?.session) && field.type.toString().endsWith('!')
    })
    expect(nonNull.map((field) => field.name)).toEqual([])
  })

  it('names the scope in the description', () => {
    expect(schema.getQueryType()!.getFields().contacts!.description).toMatch(/Scope: contacts:read\.$/)
    expect(schema.getMutationType()!.getFields().createApiKey!.description).toMatch(/session only/)
  })
})

describe('anonymous requests', () => {
  it.each([
    ['a query', '{ me { email } }'],
    ['a scoped query', '{ contacts { totalCount } }'],
    ['a node lookup', '{ node(id: "Q29udGFjdDowMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA=") { id } }'],
    ['a mutation', 'mutation { createGroup(name: "Chess") { id } }'],
    ['a session-only mutation', 'mutation { createApiKey(input: { name: "x", scopes: [] }) { key } }'],
  ])('refuses %s with UNAUTHENTICATED, before resolving', async (_label, source) => {
    const result = await graphql({ schema, source, contextValue: anonymous })
    const original = result.errors?.[0]?.originalError
    expect(original).toBeInstanceOf(ClientError)
    expect(original).toMatchObject({ code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGE })
  })

  it('refuses an anonymous subscription when it is created: no stream starts', async () => {
    const result = await subscribe({ schema, document: parse('subscription { suggestions { __typename } }'), contextValue: anonymous })
    expect(Symbol.asyncIterator in result).toBe(false)
    const original = (result as { errors?: { originalError?: unknown }[] }).errors?.[0]?.originalError
    expect(original).toMatchObject({ code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGE })
  })
})

describe('a partner credential short of a scope', () => {
  it('gets FORBIDDEN naming the scope, for each field on its own, before any read', async () => {
    const result = await graphql({ schema, source: '{ contacts { totalCount } calendarFeed { createdAt } accounts { id } }', contextValue: apiKey(['suggestions:read']) })
    expect(result.data).toEqual({ contacts: null, calendarFeed: null, accounts: null })
    const byField = Object.fromEntries((result.errors ?? []).map((error) => [error.path?.join('.'), error.originalError]))
    expect(byField.contacts).toMatchObject({ code: 'FORBIDDEN', details: { scope: 'contacts:read' } })
    expect(byField.calendarFeed).toMatchObject({ code: 'FORBIDDEN', details: { scope: 'calendar:read' } })
    expect(byField.accounts).toMatchObject({ code: 'FORBIDDEN', message: SESSION_ONLY_MESSAGE, details: { requires: 'session' } })
  })

  it('cannot mint keys, whatever its scopes', async () => {
    const result = await graphql({ schema, source: 'mutation { createApiKey(input: { name: "x", scopes: ["contacts:read"] }) { key } }', contextValue: apiKey([...SCOPES]) })
    expect(result.errors?.[0]?.originalError).toMatchObject({ code: 'FORBIDDEN', details: { requires: 'session' } })
  })

  it('gets no stream from the suggestions subscription without suggestions:subscribe', async () => {
    const result = await subscribe({ schema, document: parse('subscription { suggestions { __typename } }'), contextValue: apiKey(['suggestions:read']) })
    expect(Symbol.asyncIterator in result).toBe(false)
    expect((result as { errors?: { originalError?: unknown }[] }).errors?.[0]?.originalError).toMatchObject({ code: 'FORBIDDEN', details: { scope: 'suggestions:subscribe' } })
  })

  it.each(Object.entries(NODE_REQUIREMENTS).filter(([, requirement]) => 'scope' in requirement))('needs %s to read that node type through node(id)', async (typename, requirement) => {
    const id = Buffer.from(`${typename}:00000000-0000-4000-8000-000000000000`).toString('base64')
    const result = await graphql({ schema, source: `{ node(id: "${id}") { id } }`, contextValue: apiKey([]) })
    // A suggestion id has its own shape: a malformed one is NOT_FOUND before any scope (it identifies nothing).
    const error = result.errors?.[0]?.originalError
    if (typename === 'Suggestion') expect(error).toMatchObject({ code: 'NOT_FOUND' })
    else expect(error).toMatchObject({ code: 'FORBIDDEN', details: requirement })
  })
})
