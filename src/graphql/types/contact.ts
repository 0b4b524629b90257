/**
 * The viewer's contacts: the Contact node, the `contacts` connection, and the contact
 * mutations (create, update, archive, log an interaction, set its groups): thin
 * resolvers over the domain writes, where validation, ownership and the change announcement live.
 */
import { queryFromInfo } from '@pothos/plugin-prisma'
import { listContacts } from '../../contacts/contact-service.ts'
import { archiveContact, createContact, logInteraction, updateContact } from '../../contacts/contact-writes.ts'
import type { ContactOrderKey } from '../../cursors/contact-cursor.ts'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ContactQuery } from '../../contacts/keyset/contact-page.ts'
import { badUserInput } from '../../errors.ts'
import type { Contact, Group } from '../../generated/prisma/client.ts'
import { groupsOfUser, setContactGroups } from '../../groups/groups.ts'
import { builder } from '../builder.ts'
import { viewerOf, type GraphQLContext } from '../context.ts'
import {
  ContactOrderFieldEnum,
  ContactSourceEnum,
  DunbarCircleEnum,
  FrequencyPreferenceEnum,
  InteractionKindEnum,
  OrderDirectionEnum,
} from './enums.ts'
import { GroupNode } from './group.ts'

export const ContactNode = builder.prismaNode('Contact', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    // A contact written before imports kept its primary e-mail and phone only: they are its lists then.
    emails: t.stringList({
      description: 'Every e-mail, the primary (`email`) first; imported contacts may have several.',
      select: { email: true, emails: true },
      resolve: (contact) => (contact.emails.length > 0 ? contact.emails : contact.email ? [contact.email] : []),
    }),
    phones: t.stringList({
      description: 'Every phone as written, the primary (`phone`) first.',
      select: { phone: true, phones: true },
      resolve: (contact) => (contact.phones.length > 0 ? contact.phones : contact.phone ? [contact.phone] : []),
    }),
    birthday: t.exposeString('birthday', { nullable: true, description: '`YYYY-MM-DD`, or `--MM-DD` when the year is not known (RFC 6350).' }),
    linkedIn: t.exposeString('linkedIn', { nullable: true }),
    instagram: t.exposeString('instagram', { nullable: true }),
    xHandle: t.exposeString('xHandle', { nullable: true }),
    otherSocialMedia: t.expose('otherSocialMedia', { type: 'JSON', nullable: true }),
    location: t.exposeString('location', { nullable: true }),
    timezone: t.exposeString('timezone', { nullable: true, description: 'IANA time zone' }),
    customNotes: t.exposeString('customNotes', { nullable: true }),
    lastContactDate: t.expose('lastContactDate', { type: 'DateTime', nullable: true }),
    nextDueAt: t.expose('nextDueAt', {
      type: 'DateTime',
      description: 'When the contact is due: the last contact plus the cadence; never contacted, when it was added (due at once).',
    }),
    frequencyPreference: t.expose('frequencyPreference', { type: FrequencyPreferenceEnum, nullable: true }),
    dunbarCircle: t.expose('dunbarCircle', { type: DunbarCircleEnum, nullable: true }),
    circleAssignedAt: t.expose('circleAssignedAt', { type: 'DateTime', nullable: true }),
    circleConfidence: t.exposeFloat('circleConfidence', { nullable: true }),
    aiSuggestedCircle: t.expose('aiSuggestedCircle', { type: DunbarCircleEnum, nullable: true }),
    archived: t.exposeBoolean('archived'),
    source: t.expose('source', { type: ContactSourceEnum }),
    lastSyncedAt: t.expose('lastSyncedAt', { type: 'DateTime', nullable: true }),
    tags: t.exposeStringList('tags'),
    groups: t.field({
      type: [GroupNode],
      description: 'By name.',
      select: { groupIds: true, userId: true },
      resolve: async (contact, _args, context) => {
        const groups = await groupsFor(context, contact.userId)
        return [...groups.values()].filter((group) => contact.groupIds.includes(group.id))
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

/**
 * The viewer's groups, one query for the contacts resolved together (a page, a
 * batch of suggestions), however many they are. Shared only until the event
 * loop moves on, not for the context's life: a subscription keeps its context
 * for hours, and a cache kept there showed every later event the groups of the
 * first one (a group created since was missing).
 */
const groupsByTurn = new WeakMap<GraphQLContext, Map<string, Promise<Map<string, Group>>>>()
function groupsFor(context: GraphQLContext, userId: string): Promise<Map<string, Group>> {
  let byUser = groupsByTurn.get(context)
  if (!byUser) {
    byUser = new Map()
    groupsByTurn.set(context, byUser)
    // Resolvers of one execution step run before the check phase; the next event of a stream runs after it.
    setImmediate(() => groupsByTurn.delete(context))
  }
  let groups = byUser.get(userId)
  if (!groups) {
    groups = groupsOfUser(context.prisma, userId)
    byUser.set(userId, groups)
  }
  return groups
}

const ContactFilterInput = builder.inputType('ContactFilter', {
  fields: (t) => ({
    circle: t.field({ type: DunbarCircleEnum }),
    group: t.globalID({ for: GroupNode, description: 'Only members of this group.' }),
    tag: t.string(),
    search: t.string({ description: 'Case-insensitive part of the name or email.' }),
    archived: t.boolean({ description: 'true: only archived contacts. Default: only active ones.' }),
  }),
})

const ContactOrderInput = builder.inputType('ContactOrder', {
  fields: (t) => ({
    field: t.field({ type: ContactOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, defaultValue: 'asc' }),
  }),
})

const ContactConnection = builder.connectionObject({ type: ContactNode, name: 'ContactConnection' })

builder.queryField('contacts', (t) =>
  t.withAuth({ authenticated: true }).field({
    type: ContactConnection,
    description: "The viewer's contacts, a page at a time (keyset pagination: stable under inserts and deletes).",
    // A page of `first` contacts costs `first` times a contact's selection (a variable `first` counts too).
    // Out of range, the resolver refuses it with BAD_USER_INPUT naming `first`, more useful than a cost.
    complexity: (args) => {
      const first = args.first ?? DEFAULT_PAGE_SIZE
      return { field: 1, multiplier: first >= 1 && first <= MAX_PAGE_SIZE ? first : 0 }
    },
    args: {
      first: t.arg.int({ defaultValue: DEFAULT_PAGE_SIZE, description: '1..1000' }),
      after: t.arg.string({ description: 'endCursor of the previous page' }),
      filter: t.arg({ type: ContactFilterInput }),
      orderBy: t.arg({ type: ContactOrderInput, description: 'Default: by name, ascending' }),
    },
    resolve: async (_root, args, context, info) => {
      const userId = context.userId
      const orderBy = (args.orderBy?.field ?? 'name') as ContactOrderKey
      const direction = args.orderBy?.direction ?? 'asc'
      const page = await listContacts<Contact>(
        context.prisma,
        userId,
        {
          first: args.first ?? DEFAULT_PAGE_SIZE,
          after: args.after,
          orderBy,
          direction,
          filter: args.filter && {
            circle: args.filter.circle,
            groupId: args.filter.group?.id,
            tag: args.filter.tag,
            search: args.filter.search,
            archived: args.filter.archived,
          },
        },
        queryFromInfo({ context, info, typeName: 'Contact', path: ['edges', 'node'] }) as ContactQuery,
      )
      // Cursors are signed only when the client asks for them.
      const edges = page.rows.map((node, index) => ({
        node,
        get cursor() {
          return page.cursorAt(index)
        },
      }))
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasMore,
          hasPreviousPage: Boolean(args.after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      }
    },
  }),
)

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never

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

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ authenticated: true })
  return {
    createContact: authenticated.field({
      type: ContactNode,
      args: { input: t.arg({ type: CreateContactInput, required: true }) },
      resolve: (_root, { input }, context) => createContact(context, context.userId, input, context.clock.now(), context.quotas.contacts),
    }),
    updateContact: authenticated.field({
      type: ContactNode,
      args: { id: t.arg.globalID({ required: true, for: ContactNode }), input: t.arg({ type: UpdateContactInput, required: true }) },
      resolve: (_root, { id, input }, context) => {
        const { name, ...rest } = input
        if (name === null) throw badUserInput('name cannot be null', 'input.name')
        return updateContact(context, context.userId, id.id, { ...rest, name }, context.clock.now())
      },
    }),
    archiveContact: authenticated.field({
      type: ContactNode,
      args: { id: t.arg.globalID({ required: true, for: ContactNode }), archived: t.arg.boolean({ defaultValue: true }) },
      resolve: (_root, { id, archived }, context) => archiveContact(context, context.userId, id.id, archived ?? true),
    }),
    logInteraction: authenticated.field({
      type: ContactNode,
      description: 'Records a touch; the latest one moves lastContactDate and nextDueAt.',
      args: { contactId: t.arg.globalID({ required: true, for: ContactNode }), input: t.arg({ type: LogInteractionInput }) },
      resolve: (_root, args, context) => logInteraction(context, context.userId, args.contactId.id, args.input ?? {}, context.clock.now()),
    }),
    setContactGroups: authenticated.field({
      type: ContactNode,
      args: {
        contactId: t.arg.globalID({ required: true, for: ContactNode }),
        groupIds: t.arg.globalIDList({ required: true, for: GroupNode }),
      },
      resolve: (_root, args, context) =>
        setContactGroups(context, context.userId, args.contactId.id, args.groupIds.map((group) => group.id)),
    }),
  }
})
