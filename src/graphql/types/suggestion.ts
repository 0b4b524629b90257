/**
 * Suggestions: the Suggestion node, the `suggestions` subscription and its events, the
 * suggestions kept by status (`suggestionsByStatus`), and accept / dismiss / snooze, undo and
 * restore (thin resolvers over `suggestions/suggestion-status.ts`).
 */
import { queryFromInfo } from '@pothos/plugin-prisma'
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql'
import type { Interval } from '../../calendar/free-slots.ts'
import type { MinimalContact } from '../../contacts/keyset/contact-streams.ts'
import { notFound } from '../../errors.ts'
import type { Contact } from '../../generated/prisma/client.ts'
import { DEFAULT_MAX_SUGGESTIONS, MAX_SUGGESTIONS, type SuggestionEvent } from '../../suggestions/generator.ts'
import {
  DEFAULT_STATUS_PAGE,
  findSuggestion,
  listSuggestionsByStatus,
  MAX_STATUS_PAGE,
  restoreSuggestion,
  setSuggestionStatus,
  statusEndsAt,
  undoSuggestionAction,
  type SuggestionView,
} from '../../suggestions/suggestion-status.ts'
import type { LiveEvent } from '../../suggestions/live.ts'
import { subscribeToSuggestions } from '../../suggestions/subscribe.ts'
import { perUserPoolKey } from '../../auth/user-pools.ts'
import { builder } from '../builder.ts'
import { viewerOf, type GraphQLContext } from '../context.ts'
import { suggestionReachOf } from '../scope-auth.ts'
import { batchPerTurn } from '../per-turn.ts'
import { connectionOf, pageComplexity, totalCountOf } from '../connection.ts'
import { streamComplexity, streamListComplexity } from '../limits/query-cost.ts'
import { ContactNode } from './contact.ts'
import { SuggestionStatusEnum } from './enums.ts'

const TimeSlot = builder.objectRef<Interval>('TimeSlot').implement({
  fields: (t) => ({
    start: t.expose('start', { type: 'DateTime' }),
    end: t.expose('end', { type: 'DateTime' }),
  }),
})

const TimeSlotInput = builder.inputType('TimeSlotInput', {
  fields: (t) => ({
    start: t.field({ type: 'DateTime', required: true }),
    end: t.field({ type: 'DateTime', required: true }),
  }),
})

/**
 * Contact fields that show a column as it is (`t.expose...`, the node id) and that a walk's row
 * (MinimalContact) holds: for a selection of these, the row answers as the database would.
 * Not `frequencyPreference`: the API shows null for one inherited from a group (a column the row lacks).
 */
const ROW_FIELDS: ReadonlySet<string> = new Set(['__typename', 'id', 'name', 'timezone', 'lastContactDate', 'nextDueAt', 'dunbarCircle'])

/** A suggestion's contact as the engine gives it: a walk's row, not a stored suggestion's `{ id }`. */
const isWalkRow = (contact: { id: string }): contact is MinimalContact => 'nextDueAt' in contact && 'name' in contact

/** Whether `set` (fragments followed) selects only {@link ROW_FIELDS}. */
function selectsWithin(set: SelectionSetNode, fragments: GraphQLResolveInfo['fragments']): boolean {
  return set.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return ROW_FIELDS.has(selection.name.value)
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsWithin(selection.selectionSet, fragments)
    const fragment = fragments[selection.name.value]
    return fragment !== undefined && selectsWithin(fragment.selectionSet, fragments)
  })
}

/** Per field nodes (the same array for every suggestion of a list): does the selection ask only for {@link ROW_FIELDS}? */
const rowAnswers = new WeakMap<readonly FieldNode[], boolean>()
function selectsOnlyRowFields(info: GraphQLResolveInfo): boolean {
  let answers = rowAnswers.get(info.fieldNodes)
  if (answers === undefined) {
    answers = info.fieldNodes.every((node) => node.selectionSet === undefined || selectsWithin(node.selectionSet, info.fragments))
    rowAnswers.set(info.fieldNodes, answers)
  }
  return answers
}

const KEY_SEPARATOR = '\u0000'

/**
 * The contacts of the suggestions resolved in the same step, keyed `<query JSON>\0<contact id>`: one
 * statement per Prisma query (selection) for all of them, the viewer's contacts only. The queries of
 * Contact are plain JSON (selects and includes of scalars).
 */
const contactsOfStep = batchPerTurn(async (context, keys: string[]) => {
  const idsByQuery = new Map<string, string[]>()
  for (const key of keys) {
    const cut = key.lastIndexOf(KEY_SEPARATOR)
    const query = key.slice(0, cut)
    const ids = idsByQuery.get(query) ?? []
    ids.push(key.slice(cut + 1))
    idsByQuery.set(query, ids)
  }
  const found = new Map<string, Contact>()
  for (const [query, ids] of idsByQuery) {
    const rows = await context.prisma.contact.findMany({ ...(JSON.parse(query) as object), where: { id: { in: ids }, userId: viewerOf(context) } })
    for (const row of rows) found.set(`${query}${KEY_SEPARATOR}${row.id}`, row)
  }
  return found
}, undefined)

/** The contact `id` as `query` selects it, read with the other suggestions' of the step. */
async function contactFor(context: GraphQLContext, query: object, id: string): Promise<Contact> {
  const contact = await contactsOfStep(context, `${JSON.stringify(query)}${KEY_SEPARATOR}${id}`)
  if (!contact) throw notFound('contact')
  return contact
}

/** An engine suggestion (PENDING until stored with another status) or a stored one. */
type SuggestionSource = Omit<SuggestionView, 'status'> & { status?: SuggestionView['status'] }

/** The Suggestion node (a Relay node whose id is the suggestion id: contact and slot, see suggestion-id.ts). */
export const SuggestionType = builder.objectRef<SuggestionSource>('Suggestion')
builder.node(SuggestionType, {
  description: 'Whom to reach out to, and when. The id is stable for the same contact and slot.',
  id: { resolve: (s) => s.id },
  // Without contacts:read, only a stored suggestion: one computed from any contact id would read that contact.
  loadOne: (id, context) => findSuggestion(context.prisma, viewerOf(context), id, context.clock.now(), suggestionReachOf(context, 'read')),
  fields: (t) => ({
    priority: t.exposeFloat('priority'),
    reason: t.exposeString('reason'),
    slot: t.field({ type: TimeSlot, nullable: true, resolve: (s) => s.slot }),
    status: t.field({ type: SuggestionStatusEnum, resolve: (s) => s.status ?? 'PENDING' }),
    statusEndsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the status stops hiding the contact: snooze end, dismissal + horizon, accepted slot end (or + horizon); null for PENDING',
      resolve: (s, _args, context) => statusEndsAt({ ...s, status: s.status ?? 'PENDING' }, context.suggestionHorizonMs),
    }),
    statusSetAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the status was set; null for PENDING',
      resolve: (s) => (s.status && s.status !== 'PENDING' ? (s.statusSetAt ?? null) : null),
    }),
    // The walk's own row when it has every field asked for (the app's `contact { id name dunbarCircle timezone }`):
    // no statement at all. Otherwise, and for stored suggestions, one statement for the suggestions of the step.
    // `t.field` with `queryFromInfo` on that path only, not `t.prismaField`: the latter plans the selection for
    // every suggestion and keeps its per-request cache for the subscription's life (about 1.5 KB a stream).
    contact: t.field({
      type: ContactNode,
      resolve: (s, _args, context, info) =>
        isWalkRow(s.contact) && selectsOnlyRowFields(info)
          ? (s.contact as unknown as Contact) // only fields read straight from the columns the row has: see ROW_FIELDS
          : contactFor(context, queryFromInfo({ context, info }), s.contact.id),
    }),
  }),
})

/**
 * The cost of the `suggestions` subscription (query-cost.ts): `maxSuggestions` times the costliest of its
 * events' suggestion selections, as `contacts(first:)` multiplies by `first`. The stream sends at most
 * `maxSuggestions` suggestions in all its batches; SuggestionsComplete and each SuggestionsUpdated repeat such
 * a list: priced once (streamComplexity), and the operation is charged once, when it subscribes (a live
 * stream's later updates cost nothing more: docs/partners.md, Limits). `batchSize` and `slots` bound the
 * walk's pages and the slots offered, not what is sent. Out of range: 0, the stream refuses it (BAD_USER_INPUT).
 */
const suggestionsComplexity = streamComplexity((args: { input?: { maxSuggestions?: number | null } | null }) => {
  const max = args.input?.maxSuggestions ?? DEFAULT_MAX_SUGGESTIONS
  return max >= 1 && max <= MAX_SUGGESTIONS ? max : 0
})

type Batch = Extract<SuggestionEvent, { kind: 'batch' }>
type Throttled = Extract<SuggestionEvent, { kind: 'throttled' }>
type Complete = Extract<LiveEvent, { kind: 'complete' }>

const SuggestionBatch = builder.objectRef<Batch>('SuggestionBatch').implement({
  description: 'Suggestions that became final, in rank order; resume after them with `cursor`.',
  isTypeOf: (event) => (event as SuggestionEvent).kind === 'batch',
  fields: (t) => ({
    suggestions: t.field({ type: [SuggestionType], complexity: streamListComplexity('SuggestionBatch'), resolve: (e) => e.suggestions }),
    cursor: t.exposeString('cursor'),
    scanned: t.exposeInt('scanned', { description: 'Contacts read so far' }),
  }),
})
const SuggestionsThrottled = builder.objectRef<Throttled>('SuggestionsThrottled').implement({
  description: 'The server is short of memory and slows this stream down.',
  isTypeOf: (event) => (event as SuggestionEvent).kind === 'throttled',
  fields: (t) => ({
    reason: t.exposeString('reason'),
    heapUsedBytes: t.exposeFloat('heapUsedBytes'),
  }),
})
const SuggestionsComplete = builder.objectRef<Complete>('SuggestionsComplete').implement({
  isTypeOf: (event) => (event as SuggestionEvent).kind === 'complete',
  fields: (t) => ({
    total: t.exposeInt('total'),
    suggestions: t.field({
      type: [SuggestionType],
      description: 'The suggestions this stream sent, in rank order (after resumeFrom: those after the cursor). For clients that keep only the latest event, like GraphiQL.',
      complexity: streamListComplexity('SuggestionsComplete'),
      resolve: (e) => e.suggestions,
    }),
    scanned: t.exposeInt('scanned'),
    durationMs: t.exposeFloat('durationMs'),
  }),
})

type Updated = Extract<LiveEvent, { kind: 'updated' }>
const SuggestionsUpdated = builder.objectRef<Updated>('SuggestionsUpdated').implement({
  description: "The new full ranked list, after the user's data changed (live subscriptions).",
  isTypeOf: (event) => (event as LiveEvent).kind === 'updated',
  fields: (t) => ({ suggestions: t.field({ type: [SuggestionType], complexity: streamListComplexity('SuggestionsUpdated'), resolve: (e) => e.suggestions }) }),
})

const SuggestionEventUnion = builder.unionType('SuggestionEvent', {
  types: [SuggestionBatch, SuggestionsThrottled, SuggestionsComplete, SuggestionsUpdated],
})

const SuggestionsInput = builder.inputType('SuggestionsInput', {
  fields: (t) => ({
    maxSuggestions: t.int({ defaultValue: 50, description: '1..500' }),
    batchSize: t.int({ defaultValue: 100, description: '1..1000 contacts per page' }),
    slots: t.field({ type: [TimeSlotInput], description: "Default: the user's availability over the horizon. At most MAX_SLOTS (default 1000)" }),
    resumeFrom: t.string({ description: 'Cursor of the last SuggestionBatch received' }),
    live: t.boolean({ defaultValue: true, description: 'Stay open after SuggestionsComplete and push SuggestionsUpdated' }),
  }),
})

builder.subscriptionType({})
builder.subscriptionField('suggestions', (t) =>
  t.withAuth({ scope: 'suggestions:subscribe' }).field({
    type: SuggestionEventUnion,
    description:
      'The ranked top suggestions, batch by batch as each becomes final, then SuggestionsComplete.',
    args: { input: t.arg({ type: SuggestionsInput }) },
    complexity: suggestionsComplexity,
    subscribe: (_root, { input }, context) =>
      subscribeToSuggestions(
        {
          engine: context.suggestions,
          admission: context.admission,
          limiter: context.subscriptionLimiter,
          // A partner's streams count in the user's partner pool, not in the session's (auth/user-pools.ts).
          poolKey: context.userId ? perUserPoolKey(context.userId, context.credential?.kind) : undefined,
          changes: context.userChanges,
          writeTimeoutMs: context.streamWriteTimeoutMs,
          stats: context.liveStreams,
        },
        context.userId,
        input,
        context.request?.signal,
      ),
    resolve: (event: LiveEvent) => event,
  }),
)

const SuggestionConnection = builder.connectionObject({
  type: SuggestionType,
  name: 'SuggestionConnection',
  fields: (t) => ({ totalCount: t.int({ description: 'Suggestions of the list (all pages)', resolve: (connection) => totalCountOf(connection) }) }),
})

builder.queryField('suggestionsByStatus', (t) =>
  t.withAuth({ scope: 'suggestions:read' }).field({
    type: SuggestionConnection,
    nullable: true,
    description:
      "The viewer's suggestions whose status is still in force (ACCEPTED = planned; DISMISSED, SNOOZED = hidden), latest change first.",
    complexity: pageComplexity(DEFAULT_STATUS_PAGE, MAX_STATUS_PAGE),
    args: {
      statuses: t.arg({ type: [SuggestionStatusEnum], required: true }),
      first: t.arg.int({ defaultValue: DEFAULT_STATUS_PAGE, description: `1..${MAX_STATUS_PAGE}` }),
      after: t.arg.string(),
    },
    resolve: async (_root, args, context) =>
      connectionOf(
        await listSuggestionsByStatus(
          context.prisma,
          context.userId,
          { statuses: args.statuses, first: args.first ?? DEFAULT_STATUS_PAGE, after: args.after },
          context.clock.now(),
          context.suggestionHorizonMs,
        ),
        args.after,
      ),
  }),
)

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ scope: 'suggestions:write' })
  return {
    undoSuggestionAction: authenticated.field({
      type: SuggestionType,
      description:
        "Undoes the latest accept / dismiss / snooze of the suggestion's contact: the status it replaced comes back (or none: PENDING). Returns the suggestion as it is now. NOT_FOUND when the id is not the viewer's; BAD_USER_INPUT when there is nothing to undo.",
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => undoSuggestionAction(context, context.userId, id.id, context.clock.now(), suggestionReachOf(context, 'write')),
    }),
    restoreSuggestion: authenticated.field({
      type: SuggestionType,
      description: "Clears the status of the suggestion's contact (it can be suggested again at once). Returns it as PENDING.",
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => restoreSuggestion(context, context.userId, id.id, context.clock.now(), suggestionReachOf(context, 'write')),
    }),
    acceptSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => setSuggestionStatus(context, context.userId, id.id, 'ACCEPTED', context.clock.now(), undefined, suggestionReachOf(context, 'write')),
    }),
    dismissSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => setSuggestionStatus(context, context.userId, id.id, 'DISMISSED', context.clock.now(), undefined, suggestionReachOf(context, 'write')),
    }),
    snoozeSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }), until: t.arg({ type: 'DateTime', required: true }) },
      resolve: (_root, { id, until }, context) => setSuggestionStatus(context, context.userId, id.id, 'SNOOZED', context.clock.now(), until, suggestionReachOf(context, 'write')),
    }),
  }
})
