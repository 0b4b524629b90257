/**
 * Suggestions: the Suggestion node, the `suggestions` subscription and its events, the
 * suggestions kept by status (`suggestionsByStatus`), and accept / dismiss / snooze, undo and
 * restore (thin resolvers over `suggestions/suggestion-status.ts`).
 */
import type { Interval } from '../../calendar/free-slots.ts'
import type { SuggestionEvent } from '../../suggestions/generator.ts'
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
import { userChanges } from '../../pubsub/changes.ts'
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'
import { connectionOf, pageComplexity, totalCountOf } from '../connection.ts'
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

/** An engine suggestion (PENDING until stored with another status) or a stored one. */
type SuggestionSource = Omit<SuggestionView, 'status'> & { status?: SuggestionView['status'] }

/** The Suggestion node (a Relay node whose id is the suggestion id: contact and slot, see suggestion-id.ts). */
export const SuggestionType = builder.objectRef<SuggestionSource>('Suggestion')
builder.node(SuggestionType, {
  description: 'Whom to reach out to, and when. The id is stable for the same contact and slot.',
  id: { resolve: (s) => s.id },
  loadOne: (id, context) => findSuggestion(context.prisma, viewerOf(context), id, context.clock.now()),
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
    // Prisma batches the findUnique calls of one tick into one query: one per batch of suggestions.
    contact: t.prismaField({
      type: 'Contact',
      resolve: (query, s, _args, context) =>
        context.prisma.contact.findUniqueOrThrow({ ...query, where: { id: s.contact.id } }),
    }),
  }),
})

type Batch = Extract<SuggestionEvent, { kind: 'batch' }>
type Throttled = Extract<SuggestionEvent, { kind: 'throttled' }>
type Complete = Extract<LiveEvent, { kind: 'complete' }>

const SuggestionBatch = builder.objectRef<Batch>('SuggestionBatch').implement({
  description: 'Suggestions that became final, in rank order; resume after them with `cursor`.',
  isTypeOf: (event) => (event as SuggestionEvent).kind === 'batch',
  fields: (t) => ({
    suggestions: t.field({ type: [SuggestionType], resolve: (e) => e.suggestions }),
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
  fields: (t) => ({ suggestions: t.field({ type: [SuggestionType], resolve: (e) => e.suggestions }) }),
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
  t.withAuth({ authenticated: true }).field({
    type: SuggestionEventUnion,
    description: 'The ranked top suggestions, batch by batch as each becomes final, then SuggestionsComplete.',
    args: { input: t.arg({ type: SuggestionsInput }) },
    subscribe: (_root, { input }, context) =>
      subscribeToSuggestions(
        {
          engine: context.suggestions,
          admission: context.admission,
          limiter: context.subscriptionLimiter,
          changes: (userId) => userChanges(context.pubsub, userId),
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
  t.withAuth({ authenticated: true }).field({
    type: SuggestionConnection,
    description:
      "The viewer's suggestions whose status is still in force (ACCEPTED = planned; DISMISSED, SNOOZED = hidden), latest change first",
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
  const authenticated = t.withAuth({ authenticated: true })
  return {
    undoSuggestionAction: authenticated.field({
      type: SuggestionType,
      description:
        "Undoes the latest accept / dismiss / snooze of the suggestion's contact: the status it replaced comes back (or none: PENDING). Returns the suggestion as it is now. NOT_FOUND when the id is not the viewer's; BAD_USER_INPUT when there is nothing to undo.",
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => undoSuggestionAction(context, context.userId, id.id, context.clock.now()),
    }),
    restoreSuggestion: authenticated.field({
      type: SuggestionType,
      description: "Clears the status of the suggestion's contact (it can be suggested again at once). Returns it as PENDING.",
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => restoreSuggestion(context, context.userId, id.id, context.clock.now()),
    }),
    acceptSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => setSuggestionStatus(context, context.userId, id.id, 'ACCEPTED', context.clock.now()),
    }),
    dismissSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }) },
      resolve: (_root, { id }, context) => setSuggestionStatus(context, context.userId, id.id, 'DISMISSED', context.clock.now()),
    }),
    snoozeSuggestion: authenticated.field({
      type: SuggestionType,
      args: { id: t.arg.globalID({ required: true, for: SuggestionType }), until: t.arg({ type: 'DateTime', required: true }) },
      resolve: (_root, { id, until }, context) => setSuggestionStatus(context, context.userId, id.id, 'SNOOZED', context.clock.now(), until),
    }),
  }
})
