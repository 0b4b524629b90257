/** Mutations: thin resolvers over the domain writes (validation and ownership live there). */
import { addCalendarEvent, removeCalendarEvent, setAvailability } from '../../calendar/calendar-writes.ts'
import { archiveContact, createContact, createGroup, logInteraction, setContactGroups, updateContact } from '../../contacts/contact-writes.ts'
import { badUserInput } from '../../errors.ts'
import { InteractionKind } from '../../generated/prisma/enums.ts'
import { setSuggestionStatus } from '../../suggestions/suggestion-status.ts'
import { builder } from '../builder.ts'

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never
import { announceChange, requireUser, type GraphQLContext } from '../context.ts'
import { ContactNode } from './contact.ts'
import { DunbarCircleEnum, FrequencyPreferenceEnum } from './enums.ts'
import { GroupNode } from './group.ts'
import { SuggestionRef } from './suggestion.ts'

const InteractionKindEnum = builder.enumType(InteractionKind, { name: 'InteractionKind' })

/** The fields both contact inputs share; `name` differs (required to create). */
const contactFields = (t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>) => ({
  email: t.string(),
  phone: t.string(),
  linkedIn: t.string(),
  instagram: t.string(),
  xHandle: t.string(),
  location: t.string(),
  timezone: t.string({ description: 'IANA time zone' }),
  customNotes: t.string(),
  tags: t.stringList(),
  frequencyPreference: t.field({ type: FrequencyPreferenceEnum }),
  dunbarCircle: t.field({ type: DunbarCircleEnum }),
  lastContactDate: t.field({ type: 'DateTime' }),
})
const CreateContactInput = builder.inputType('CreateContactInput', { fields: (t) => ({ name: t.string({ required: true }), ...contactFields(t) }) })
const UpdateContactInput = builder.inputType('UpdateContactInput', { fields: (t) => ({ name: t.string(), ...contactFields(t) }) })
const LogInteractionInput = builder.inputType('LogInteractionInput', {
  fields: (t) => ({
    occurredAt: t.field({ type: 'DateTime', description: 'Default: now' }),
    kind: t.field({ type: InteractionKindEnum }),
    note: t.string(),
  }),
})
const AvailabilityWindowInput = builder.inputType('AvailabilityWindowInput', {
  fields: (t) => ({
    weekday: t.int({ required: true, description: 'ISO: 1 = Monday ... 7 = Sunday' }),
    startMinute: t.int({ required: true, description: 'Minutes after local midnight' }),
    endMinute: t.int({ required: true }),
  }),
})
const AvailabilityWindow = builder.prismaObject('Availability', {
  fields: (t) => ({ weekday: t.exposeInt('weekday'), startMinute: t.exposeInt('startMinute'), endMinute: t.exposeInt('endMinute') }),
})
const CalendarEventNode = builder.prismaObject('CalendarEvent', {
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title', { nullable: true }),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime' }),
  }),
})
const CalendarEventInput = builder.inputType('CalendarEventInput', {
  fields: (t) => ({
    title: t.string(),
    startsAt: t.field({ type: 'DateTime', required: true }),
    endsAt: t.field({ type: 'DateTime', required: true }),
  }),
})

const contactId = (id: { typename: string; id: string }) => id.id

/** Runs a write for the signed-in user and announces the change to their live subscriptions. */
async function write<T>(ctx: GraphQLContext, what: string, run: (userId: string) => Promise<T>): Promise<T> {
  const userId = requireUser(ctx)
  return run(userId).then(announceChange<T>(ctx, userId, what))
}

builder.mutationType({
  fields: (t) => ({
    createContact: t.field({
      type: ContactNode,
      args: { input: t.arg({ type: CreateContactInput, required: true }) },
      resolve: (_r, { input }, ctx) => write(ctx, 'contact', (u) => createContact(ctx.prisma, u, input, new Date(), ctx.quotas.contacts)),
    }),
    updateContact: t.field({
      type: ContactNode,
      args: { id: t.arg.globalID({ required: true, for: ContactNode }), input: t.arg({ type: UpdateContactInput, required: true }) },
      resolve: (_r, { id, input }, ctx) => {
        const { name, ...rest } = input
        if (name === null) throw badUserInput('name cannot be null', 'input.name')
        return write(ctx, 'contact', (u) => updateContact(ctx.prisma, u, contactId(id), { ...rest, name }, new Date()))
      },
    }),
    archiveContact: t.field({
      type: ContactNode,
      args: { id: t.arg.globalID({ required: true, for: ContactNode }), archived: t.arg.boolean({ defaultValue: true }) },
      resolve: (_r, { id, archived }, ctx) => write(ctx, 'contact', (u) => archiveContact(ctx.prisma, u, contactId(id), archived ?? true)),
    }),
    logInteraction: t.field({
      type: ContactNode,
      description: 'Records a touch; the latest one moves lastContactDate and nextDueAt.',
      args: { contactId: t.arg.globalID({ required: true, for: ContactNode }), input: t.arg({ type: LogInteractionInput }) },
      resolve: (_r, args, ctx) =>
        write(ctx, 'interaction', (u) => logInteraction(ctx.prisma, u, contactId(args.contactId), (args.input ?? {}), new Date())),
    }),
    createGroup: t.field({
      type: GroupNode,
      args: { name: t.arg.string({ required: true }) },
      resolve: (_r, { name }, ctx) => write(ctx, 'group', (u) => createGroup(ctx.prisma, u, name, ctx.quotas.groups)),
    }),
    setContactGroups: t.field({
      type: ContactNode,
      args: {
        contactId: t.arg.globalID({ required: true, for: ContactNode }),
        groupIds: t.arg.globalIDList({ required: true, for: GroupNode }),
      },
      resolve: (_r, args, ctx) =>
        write(ctx, 'groups', (u) => setContactGroups(ctx.prisma, u, contactId(args.contactId), args.groupIds.map((g) => g.id))),
    }),
    setAvailability: t.field({
      type: [AvailabilityWindow],
      args: { windows: t.arg({ type: [AvailabilityWindowInput], required: true }), timezone: t.arg.string() },
      resolve: (_r, args, ctx) => write(ctx, 'availability', (u) => setAvailability(ctx.prisma, u, args.windows, args.timezone)),
    }),
    addCalendarEvent: t.field({
      type: CalendarEventNode,
      args: { input: t.arg({ type: CalendarEventInput, required: true }) },
      resolve: (_r, { input }, ctx) => write(ctx, 'calendar', (u) => addCalendarEvent(ctx.prisma, u, input, ctx.quotas.calendarEvents)),
    }),
    removeCalendarEvent: t.boolean({
      args: { id: t.arg.id({ required: true }) },
      resolve: (_r, { id }, ctx) => write(ctx, 'calendar', (u) => removeCalendarEvent(ctx.prisma, u, String(id))),
    }),
    acceptSuggestion: t.field({
      type: SuggestionRef,
      args: { id: t.arg.globalID({ required: true, for: SuggestionRef }) },
      resolve: (_r, { id }, ctx) => write(ctx, 'suggestion', (u) => setSuggestionStatus(ctx.prisma, u, id.id, 'ACCEPTED', new Date())),
    }),
    dismissSuggestion: t.field({
      type: SuggestionRef,
      args: { id: t.arg.globalID({ required: true, for: SuggestionRef }) },
      resolve: (_r, { id }, ctx) => write(ctx, 'suggestion', (u) => setSuggestionStatus(ctx.prisma, u, id.id, 'DISMISSED', new Date())),
    }),
    snoozeSuggestion: t.field({
      type: SuggestionRef,
      args: { id: t.arg.globalID({ required: true, for: SuggestionRef }), until: t.arg({ type: 'DateTime', required: true }) },
      resolve: (_r, { id, until }, ctx) =>
        write(ctx, 'suggestion', (u) => setSuggestionStatus(ctx.prisma, u, id.id, 'SNOOZED', new Date(), until)),
    }),
  }),
})
