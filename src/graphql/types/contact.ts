/**
 * The viewer's contacts: the Contact node (with its cadence and history), the `contacts` connection,
 * the viewer's tags, and the contact mutations (create, update, archive, log an interaction, set its
 * groups, rename and delete tags): thin resolvers over the domain writes, where validation, ownership
 * and the change announcement live.
 */
import { queryFromInfo } from '@pothos/plugin-prisma'
import { explainCadence, type CadenceExplanation } from '../../contacts/cadence.ts'
import { countContacts, listContacts, type ContactFilter } from '../../contacts/contact-service.ts'
import {
  DEFAULT_INTERACTIONS_PAGE,
  interactionCounts,
  interactionPage,
  interactionPageSize,
  latestInteractions,
  listInteractions,
  MAX_INTERACTIONS_PAGE,
} from '../../contacts/interactions.ts'
import { deleteTag, renameTag, tagsOfUser, type TagCount } from '../../contacts/tags.ts'
import { archiveContact, createContact, logInteraction, updateContact } from '../../contacts/contact-writes.ts'
import type { ContactOrderKey } from '../../cursors/contact-cursor.ts'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ContactQuery } from '../../contacts/keyset/contact-page.ts'
import { badUserInput } from '../../errors.ts'
import type { Contact, Group, Interaction } from '../../generated/prisma/client.ts'
import { groupsOfUser, setContactGroups } from '../../groups/groups.ts'
import { builder } from '../builder.ts'
import { connectionOf, pageComplexity, totalCountOf } from '../connection.ts'
import { viewerOf } from '../context.ts'
import { batchPerTurn, perTurn } from '../per-turn.ts'
import {
  CadenceSourceEnum,
  ContactOrderFieldEnum,
  ContactSourceEnum,
  DunbarCircleEnum,
  FrequencyPreferenceEnum,
  InteractionKindEnum,
  OrderDirectionEnum,
} from './enums.ts'
import { GroupNode } from './group.ts'
import { UserNode } from './user.ts'

/** A contact's cadence as the API shows it: the explanation and the group whose default applies. */
type CadenceView = CadenceExplanation & { group: Group | null }

const CadenceType = builder.objectRef<CadenceView>('Cadence').implement({
  description:
    "How often the contact should be reached, and why: its own frequency, else the shortest default of its groups, else its circle's, else yearly.",
  fields: (t) => ({
    days: t.exposeInt('days'),
    frequency: t.expose('frequency', { type: FrequencyPreferenceEnum, nullable: true, description: 'The frequency in force (null: from the circle or the yearly default)' }),
    source: t.expose('source', { type: CadenceSourceEnum }),
    group: t.field({ type: GroupNode, nullable: true, description: 'The group whose default applies (source GROUP)', resolve: (cadence) => cadence.group }),
    rule: t.exposeString('rule', { description: 'Readable rule, e.g. "Every 7 days (weekly), from the group Family\'s default"' }),
  }),
})

const InteractionNode = builder.prismaNode('Interaction', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    kind: t.expose('kind', { type: InteractionKindEnum }),
    note: t.exposeString('note', { nullable: true }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const InteractionConnection = builder.connectionObject({
  type: InteractionNode,
  name: 'InteractionConnection',
  fields: (t) => ({ totalCount: t.int({ description: 'Interactions of the contact (all pages)', resolve: (connection) => totalCountOf(connection) }) }),
})

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
    anniversary: t.exposeString('anniversary', { nullable: true, description: '`YYYY-MM-DD` or `--MM-DD` (RFC 6350 ANNIVERSARY)' }),
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
    frequencyPreference: t.field({
      type: FrequencyPreferenceEnum,
      nullable: true,
      description: "The contact's own frequency (null: none; a group's default may apply, see `cadence`).",
      select: { frequencyPreference: true, frequencyFromGroup: true },
      resolve: (contact) => (contact.frequencyFromGroup ? null : contact.frequencyPreference),
    }),
    cadence: t.field({
      type: CadenceType,
      select: { frequencyPreference: true, frequencyFromGroup: true, dunbarCircle: true, groupIds: true, userId: true },
      resolve: async (contact, _args, context) => {
        // The group named is the first by name whose default is the one in force (inherited-cadence.ts breaks ties so).
        const group = contact.frequencyFromGroup
          ? ([...(await groupsFor(context, contact.userId)).values()].find(
              (candidate) => contact.groupIds.includes(candidate.id) && candidate.defaultFrequency === contact.frequencyPreference,
            ) ?? null)
          : null
        return { ...explainCadence(contact, group?.name ?? null), group }
      },
    }),
    interactions: t.field({
      type: InteractionConnection,
      description: 'Newest first (occurredAt desc, id desc)',
      // `first` times the selection; a later page (`after`) is one query of its own per contact: priced as a list field (10).
      complexity: (args) => ({ ...interactionsPageComplexity(args), field: args.after ? 10 : 1 }),
      args: { first: t.arg.int({ defaultValue: DEFAULT_INTERACTIONS_PAGE, description: `1..${MAX_INTERACTIONS_PAGE}` }), after: t.arg.string() },
      // The contact was loaded through its owner: its interactions are the viewer's. A first page (no
      // `after`) is read with the other contacts' of the same step, and so is its count: a page of contacts
      // with their latest history is two queries, not two per contact. A cursor names one contact's history.
      resolve: async (contact, args, context) => {
        if (args.after) return connectionOf(await listInteractions(context.prisma, contact.id, args.first ?? DEFAULT_INTERACTIONS_PAGE, args.after), args.after)
        const size = interactionPageSize(args.first ?? DEFAULT_INTERACTIONS_PAGE)
        const rows = await firstInteractionsFor(context, `${size + 1}:${contact.id}`)
        return connectionOf(
          interactionPage(contact.id, rows, size, () => interactionCountFor(context, contact.id)),
          null,
        )
      },
    }),
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

const interactionsPageComplexity = pageComplexity(DEFAULT_INTERACTIONS_PAGE, MAX_INTERACTIONS_PAGE)

/** Keys `<take>:<contactId>`: the newest `take` interactions of each contact resolved in the same step, one query per `take`. */
const firstInteractionsFor = batchPerTurn(async (context, keys: string[]) => {
  const byTake = new Map<number, string[]>()
  for (const key of keys) {
    const [take, contactId] = key.split(':') as [string, string]
    byTake.set(Number(take), [...(byTake.get(Number(take)) ?? []), contactId])
  }
  const found = new Map<string, Interaction[]>()
  for (const [take, contactIds] of byTake) {
    for (const [contactId, rows] of await latestInteractions(context.prisma, contactIds, take)) found.set(`${take}:${contactId}`, rows)
  }
  return found
}, [] as Interaction[])

/** The interaction count of each contact resolved in the same step, one grouped query. */
const interactionCountFor = batchPerTurn((context, contactIds: string[]) => interactionCounts(context.prisma, contactIds), 0)

/** The viewer's groups, one query for the contacts resolved together (a page, a batch of suggestions). */
const groupsFor = perTurn((context, userId) => groupsOfUser(context.prisma, userId))

const ContactFilterInput = builder.inputType('ContactFilter', {
  fields: (t) => ({
    circle: t.field({ type: DunbarCircleEnum }),
    group: t.globalID({ for: GroupNode, description: 'Only members of this group.' }),
    tag: t.string(),
    search: t.string({ description: 'Case-insensitive part of the name or email.' }),
    archived: t.boolean({ description: 'true: only archived contacts. Default: only active ones.' }),
    dueBefore: t.field({ type: 'DateTime', description: 'Due by then (nextDueAt <= dueBefore); pass now for overdue' }),
    notContactedSince: t.field({ type: 'DateTime', description: 'Last contact before then, or never contacted' }),
  }),
})

const ContactOrderInput = builder.inputType('ContactOrder', {
  fields: (t) => ({
    field: t.field({ type: ContactOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, defaultValue: 'asc' }),
  }),
})

const ContactConnection = builder.connectionObject({
  type: ContactNode,
  name: 'ContactConnection',
  fields: (t) => ({
    totalCount: t.int({
      description: 'Contacts matching the filter (all pages)',
      // A count reads every matching contact's index entry: priced as a list field (10). The page's
      // `first` multiplies it like the rest of the selection, so a page with its count costs `first` x 10 more.
      complexity: 10,
      resolve: (connection) => totalCountOf(connection),
    }),
  }),
})

builder.queryField('contacts', (t) =>
  t.withAuth({ scope: 'contacts:read' }).field({
    type: ContactConnection,
    // Nullable, as every field behind a partner scope: refused, it is null and the rest of the answer arrives.
    nullable: true,
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
      const filter: ContactFilter | null | undefined = args.filter && {
        circle: args.filter.circle,
        groupId: args.filter.group?.id,
        tag: args.filter.tag,
        search: args.filter.search,
        archived: args.filter.archived,
        dueBefore: args.filter.dueBefore,
        notContactedSince: args.filter.notContactedSince,
      }
      const page = await listContacts<Contact>(
        context.prisma,
        userId,
        { first: args.first ?? DEFAULT_PAGE_SIZE, after: args.after, orderBy, direction, filter },
        queryFromInfo({ context, info, typeName: 'Contact', path: ['edges', 'node'] }) as ContactQuery,
      )
      // Cursors are signed only when the client asks for them; the count runs only when `totalCount` is
      // selected (the filter was validated by the page read).
      return connectionOf({ ...page, totalCount: () => countContacts(context.prisma, userId, filter) }, args.after)
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
  birthday: t.string({ description: '`YYYY-MM-DD`, or `--MM-DD` without the year' }),
  anniversary: t.string({ description: '`YYYY-MM-DD`, or `--MM-DD` without the year' }),
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
  const authenticated = t.withAuth({ scope: 'contacts:write' })
  return {
    createContact: authenticated.field({
      type: ContactNode,
      args: {
        input: t.arg({ type: CreateContactInput, required: true }),
        // Not `for: AccountType`: account.ts imports this file (Contact.account); the type name is checked below.
        account: t.arg.globalID({
          description: "Also create it in this CardDAV account's address book (its first enabled one), by the sync queued at once. NOT_FOUND when it is not the viewer's CardDAV account.",
        }),
      },
      resolve: async (_root, { input, account }, context) => {
        if (account && account.typename !== 'Account') throw badUserInput('account: not an Account id', 'account')
        const contact = await createContact(context, context.userId, input, context.clock.now(), context.quotas.contacts, account?.id)
        if (contact.accountId) {
          context.accounts.enqueueSync(contact.accountId).catch((error: unknown) => context.logger.warn({ err: error, accountId: contact.accountId }, 'could not queue the sync that creates the card'))
        }
        return contact
      },
    }),
    updateContact: authenticated.field({
      type: ContactNode,
      args: { id: t.arg.globalID({ required: true, for: ContactNode }), input: t.arg({ type: UpdateContactInput, required: true }) },
      resolve: async (_root, { id, input }, context) => {
        const { name, ...rest } = input
        if (name === null) throw badUserInput('name cannot be null', 'input.name')
        const contact = await updateContact(context, context.userId, id.id, { ...rest, name }, context.clock.now())
        // A synced field edited here is written back by the account's next sync: run it now, not in 15 minutes.
        if (contact.accountId && contact.remoteDirty.length > 0) {
          context.accounts.enqueueSync(contact.accountId).catch((error: unknown) => context.logger.warn({ err: error, accountId: contact.accountId }, 'could not queue the write-back sync'))
        }
        return contact
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
        setContactGroups(context, context.userId, args.contactId.id, args.groupIds.map((group) => group.id), context.clock.now()),
    }),
    renameTag: authenticated.int({
      description: 'Renames a tag on every contact of the viewer that has it (merging into `to` if it exists). Returns contacts changed.',
      args: { from: t.arg.string({ required: true }), to: t.arg.string({ required: true }) },
      resolve: (_root, { from, to }, context) => renameTag(context, context.userId, from, to, context.clock.now()),
    }),
    deleteTag: authenticated.int({
      description: 'Removes a tag from every contact of the viewer. Returns contacts changed.',
      args: { name: t.arg.string({ required: true }) },
      resolve: (_root, { name }, context) => deleteTag(context, context.userId, name, context.clock.now()),
    }),
  }
})

const TagType = builder.objectRef<TagCount>('Tag').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    contactCount: t.exposeInt('contactCount', { description: 'active contacts with it' }),
  }),
})

builder.objectField(UserNode, 'tags', (t) =>
  t.field({
    type: [TagType],
    nullable: true,
    authScopes: { scope: 'contacts:read' },
    description: "The viewer's tags by name (at most 1000).",
    resolve: (user, _args, context) => tagsOfUser(context.prisma, user.id),
  }),
)
