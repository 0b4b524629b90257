/**
 * CardDAV / CalDAV accounts (issue 15): the Account node (owner-scoped; never its credentials),
 * `accounts`, `connectAccount`, `setAccountCollections`, `syncAccount`, `disconnectAccount`, the
 * `syncProgress(accountId)` subscription, `Contact.account`, and the sync conflicts the user can see
 * (`syncConflicts`, `Contact.syncConflicts`) and answer (`resolveSyncConflict`). Thin resolvers over
 * accounts/accounts.ts and sync/.
 */
import { ACCOUNT_VIEW_SELECT, connectAccount, disconnectAccount, findAccount, listAccounts, setAccountCollections, setAccountWriteCalendar, type AccountView } from '../../accounts/accounts.ts'
import { notFound } from '../../errors.ts'
import type { AccountCollection } from '../../generated/prisma/client.ts'
import { resolveSyncConflict } from '../../sync/sync-conflicts.ts'
import { syncProgressStream, type SyncProgressEvent } from '../../sync/sync-progress.ts'
import { intBetween, parseInput } from '../../validation.ts'
import { builder } from '../builder.ts'
import { viewerOf, type AuthenticatedContext } from '../context.ts'
import { batchPerTurn } from '../per-turn.ts'
import { ContactNode } from './contact.ts'
import { AccountKindEnum, AccountStatusEnum, CollectionKindEnum, SyncConflictChoiceEnum, SyncPhaseEnum } from './enums.ts'

const CollectionType = builder.objectRef<AccountCollection>('AccountCollection').implement({
  description: 'An address book or calendar of an account; only enabled ones sync.',
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Its absolute URL on the server' }),
    displayName: t.exposeString('displayName', { nullable: true }),
    kind: t.expose('kind', { type: CollectionKindEnum }),
    enabled: t.exposeBoolean('enabled'),
  }),
})

const AccountCountsType = builder.objectRef<{ contacts: number; events: number }>('AccountCounts').implement({
  description: 'What the account brought, as of its last successful sync.',
  fields: (t) => ({
    contacts: t.exposeInt('contacts', { description: 'Synced contacts (not archived)' }),
    events: t.exposeInt('events', { description: 'Synced busy-time events (recurring ones expanded within the suggestion horizon)' }),
  }),
})

/** The Account node: a Relay node whose loader has the viewer in its `where` (another user's: NOT_FOUND through `node`). */
export const AccountType = builder.objectRef<AccountView>('Account')
builder.node(AccountType, {
  description: 'A CardDAV or CalDAV account the viewer connected. Its credentials are stored sealed and never shown.',
  id: { resolve: (account) => account.id },
  loadOne: (id, context) => findAccount(context.prisma, viewerOf(context), id),
  fields: (t) => ({
    kind: t.expose('kind', { type: AccountKindEnum }),
    url: t.exposeString('url', { description: 'The URL given when connecting; discovery started there' }),
    status: t.expose('status', { type: AccountStatusEnum }),
    lastSyncedAt: t.expose('lastSyncedAt', { type: 'DateTime', nullable: true, description: 'The last successful sync' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last sync failed (null after a success)' }),
    writeCalendarUrl: t.exposeString('writeCalendarUrl', { nullable: true, description: 'The calendar accepted suggestions are written to (setAccountWriteCalendar); null: none' }),
    counts: t.field({ type: AccountCountsType, resolve: (account) => ({ contacts: account.contactsCount, events: account.eventsCount }) }),
    collections: t.field({
      type: [CollectionType],
      description: 'The address books (CARDDAV) or calendars (CALDAV) discovery found; choose with setAccountCollections.',
      resolve: (account) => account.collections,
    }),
  }),
})

const SyncProgressType = builder.objectRef<SyncProgressEvent>('SyncProgress').implement({
  description: "An account's sync as it moves: the account now, and what moved.",
  fields: (t) => ({
    account: t.field({ type: AccountType, resolve: (event) => event.account }),
    phase: t.expose('phase', { type: SyncPhaseEnum }),
    collectionUrl: t.exposeString('collectionUrl', { nullable: true, description: 'The collection a LISTING, READING, WRITING or DONE is about' }),
    done: t.exposeInt('done', { description: 'Items of the collection handled so far (FINISHED: collections synced)' }),
    total: t.exposeInt('total', { nullable: true, description: 'Items to handle, when known' }),
  }),
})

const ConnectAccountInput = builder.inputType('ConnectAccountInput', {
  description:
    'An account to connect: its server URL (discovery follows /.well-known/carddav or /.well-known/caldav, the principal and its home set) and either `username` + `password` (HTTP Basic; use an app password: iCloud, Fastmail, Nextcloud) or `accessToken` (+ `refreshToken`; OAuth 2.0 bearer, e.g. Google).',
  fields: (t) => ({
    kind: t.field({ type: AccountKindEnum, required: true }),
    url: t.string({ required: true, description: 'http:// or https://, at most 2,048 characters, without credentials in it' }),
    username: t.string({ description: 'At most 1,024 characters' }),
    password: t.string({ description: 'At most 1,024 characters; stored encrypted, never shown again' }),
    accessToken: t.string({ description: 'At most 8,192 characters; stored encrypted, never shown again' }),
    refreshToken: t.string({ description: 'At most 8,192 characters; stored encrypted, never shown again' }),
  }),
})

const SyncConflictType = builder.prismaObject('SyncConflict', {
  description: "A field changed both here and on the server: the server's value won; the value it replaced is kept here until the user answers with resolveSyncConflict.",
  fields: (t) => ({
    id: t.exposeID('id'),
    field: t.exposeString('field', { description: '`name`, `email` or `phone`' }),
    localValue: t.exposeString('localValue', { nullable: true, description: 'The value set here, which the server replaced' }),
    remoteValue: t.exposeString('remoteValue', { nullable: true, description: "The server's value, which the contact took" }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true, description: 'When the user answered it (null: open)' }),
    contact: t.relation('contact'),
  }),
})

const MAX_CONFLICTS_PAGE = 200
const DEFAULT_CONFLICTS_PAGE = 50

/** The accounts of a page of contacts, read once for the page (owner-scoped). */
const accountOfContact = batchPerTurn(async (context, ids: string[]) => {
  const accounts = await context.prisma.account.findMany({ where: { id: { in: ids }, userId: viewerOf(context) }, select: ACCOUNT_VIEW_SELECT })
  return new Map(accounts.map((account) => [account.id, account]))
}, null as AccountView | null)

builder.prismaObjectFields(ContactNode, (t) => ({
  account: t.field({
    type: AccountType,
    nullable: true,
    // Accounts are the user's own session's business (see below), wherever they are reached from.
    authScopes: { session: true },
    description:
      "The CardDAV account the contact syncs with (null: a local contact). `source` is CARDDAV for a contact that came from one.",
    select: { accountId: true },
    resolve: (contact, _args, context) => (contact.accountId ? accountOfContact(context, contact.accountId) : null),
  }),
  syncConflicts: t.relation('syncConflicts', {
    description: 'Fields changed both here and on the server that the user has not looked at (newest first, at most 100).',
    query: { where: { resolvedAt: null }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 100 },
  }),
}))

/*
 * Connected CardDAV / CalDAV accounts hold the user's credentials for other servers and decide where
 * data syncs to and from: seeing and managing them is the user's own session's only. Partners reach
 * what the accounts bring through the contacts and calendar scopes.
 */
builder.queryFields((t) => {
  const session = t.withAuth({ session: true })
  return {
    accounts: session.field({
      type: [AccountType],
      nullable: true,
      description: "The viewer's accounts, oldest first.",
      resolve: (_root, _args, context) => listAccounts(context.prisma, context.userId),
    }),
    syncConflicts: t.withAuth({ scope: 'contacts:read' }).prismaField({
      type: [SyncConflictType],
      nullable: true,
      description: "The viewer's sync conflicts not yet looked at, newest first.",
      complexity: (args) => ({ field: 1, multiplier: typeof args.first === 'number' && args.first >= 1 && args.first <= MAX_CONFLICTS_PAGE ? args.first : 0 }),
      args: { first: t.arg.int({ defaultValue: DEFAULT_CONFLICTS_PAGE, description: `1..${MAX_CONFLICTS_PAGE}` }) },
      resolve: (query, _root, args, context) => {
        const first = parseInput(intBetween(1, MAX_CONFLICTS_PAGE), args.first ?? DEFAULT_CONFLICTS_PAGE, 'first')
        return context.prisma.syncConflict.findMany({
          ...query,
          where: { userId: context.userId, resolvedAt: null },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: first,
        })
      },
    }),
  }
})

/** Queues the account's sync (at its Retry-After, if one runs); a queue that is away is logged, the schedule catches up. */
async function requestSync(context: AuthenticatedContext, account: AccountView): Promise<void> {
  const delayMs = account.retryAfter ? Math.max(0, account.retryAfter.getTime() - context.clock.now().getTime()) : 0
  await context.accounts
    .enqueueSync(account.id, { delayMs })
    .catch((error: unknown) => context.logger.warn({ err: error, accountId: account.id }, 'sync not queued; the schedule runs it'))
}

const accountDeps = (context: AuthenticatedContext) => ({
  prisma: context.prisma,
  dav: context.accounts.dav,
  announce: context.announce,
  logger: context.logger,
  maxAccountsPerUser: context.accounts.maxAccountsPerUser,
})

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ session: true })
  return {
    connectAccount: authenticated.field({
      type: AccountType,
      description:
        'Connects a CardDAV or CalDAV account: checks the URL and the credentials by discovering its collections. One found: it is enabled and syncs at once; several: choose with setAccountCollections. The same account again (kind, url, username) reconnects it: same id, new credentials, collections new on the server added.',
      args: { input: t.arg({ type: ConnectAccountInput, required: true }) },
      resolve: async (_root, { input }, context) => {
        const account = await connectAccount(accountDeps(context), context.userId, input)
        if (account.collections.some((collection) => collection.enabled)) await requestSync(context, account)
        return account
      },
    }),
    setAccountCollections: authenticated.field({
      type: AccountType,
      description: "Chooses which of the account's collections sync (by url; the others stop syncing, what they brought stays), and syncs it.",
      args: { id: t.arg.globalID({ required: true, for: AccountType }), collectionUrls: t.arg.stringList({ required: true }) },
      resolve: async (_root, { id, collectionUrls }, context) => {
        const account = await setAccountCollections(context, context.userId, id.id, collectionUrls)
        if (account.collections.some((collection) => collection.enabled)) await requestSync(context, account)
        return account
      },
    }),
    setAccountWriteCalendar: authenticated.field({
      type: AccountType,
      description:
        "Chooses the calendar (one of this CalDAV account's, by url; null: none) that accepted suggestions are written to as events, removed again when dismissed or undone; and syncs the account.",
      args: { id: t.arg.globalID({ required: true, for: AccountType }), calendarUrl: t.arg.string() },
      resolve: async (_root, { id, calendarUrl }, context) => {
        const account = await setAccountWriteCalendar(context, context.userId, id.id, calendarUrl ?? null)
        if (account.writeCalendarUrl) await requestSync(context, account)
        return account
      },
    }),
    syncAccount: authenticated.field({
      type: AccountType,
      description: 'Syncs the account now (at the server\'s Retry-After, if it asked for one); answers the account as stored. Follow it with syncProgress.',
      args: { id: t.arg.globalID({ required: true, for: AccountType }) },
      resolve: async (_root, { id }, context) => {
        const account = await findAccount(context.prisma, context.userId, id.id)
        if (!account) throw notFound('account')
        await requestSync(context, account)
        return account
      },
    }),
    resolveSyncConflict: authenticated.field({
      type: SyncConflictType,
      description:
        "Answers a sync conflict: keep LOCAL (the value set here goes back into the contact and is written to the server by the account's sync, queued now, with If-Match) or REMOTE (the server's value stays). It, and any older open conflict of the same contact's field, is no longer listed as open. One answered already is returned as it is. Another user's or an unknown id: NOT_FOUND.",
      args: { id: t.arg.id({ required: true, description: 'The SyncConflict id' }), keep: t.arg({ type: SyncConflictChoiceEnum, required: true }) },
      resolve: async (_root, { id, keep }, context) => {
        const { conflict, contact } = await resolveSyncConflict(context, context.userId, String(id), keep, context.clock.now())
        if (contact?.accountId && contact.remoteDirty.length > 0) {
          context.accounts.enqueueSync(contact.accountId).catch((error: unknown) => context.logger.warn({ err: error, accountId: contact.accountId }, 'could not queue the write-back sync'))
        }
        return conflict
      },
    }),
    disconnectAccount: authenticated.boolean({
      description: 'Disconnects the account and deletes its credentials. Its contacts stay (as local contacts); its events go.',
      args: { id: t.arg.globalID({ required: true, for: AccountType }) },
      resolve: (_root, { id }, context) => disconnectAccount(context, context.userId, id.id),
    }),
  }
})

builder.subscriptionField('syncProgress', (t) =>
  t.withAuth({ session: true }).field({
    type: SyncProgressType,
    description: "The account now, then as its sync starts, moves and finishes (from any process); ends after that run's FINISHED event (subscribe again to follow a later run), or when the account is disconnected. Another user's or an unknown id: NOT_FOUND.",
    args: { accountId: t.arg.globalID({ required: true, for: AccountType }) },
    subscribe: (_root, { accountId }, context) => syncProgressStream(context.prisma, context.pubsub, context.userId, accountId.id),
    resolve: (event: SyncProgressEvent) => event,
  }),
)
