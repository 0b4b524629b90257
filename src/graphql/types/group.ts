/**
 * The viewer's groups: the Group node (with its default cadence and member count), `createGroup`,
 * `updateGroup`, `deleteGroup` (membership is set on the contact: `setContactGroups`, contact.ts).
 */
import { createGroup, deleteGroup, memberCounts, updateGroup } from '../../groups/groups.ts'
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'
import { perTurn } from '../per-turn.ts'
import { FrequencyPreferenceEnum } from './enums.ts'

/** The viewer's member counts, one query for every group resolved together. */
const memberCountsFor = perTurn((context, userId) => memberCounts(context.prisma, userId))

export const GroupNode = builder.prismaNode('Group', {
  id: { field: 'id' },
  nullable: true,
  // Node lookups only ever see the viewer's own rows.
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    defaultFrequency: t.expose('defaultFrequency', {
      type: FrequencyPreferenceEnum,
      nullable: true,
      description: 'Cadence for members without their own frequency (null: none)',
    }),
    memberCount: t.int({
      description: 'Active (not archived) members',
      select: { userId: true },
      resolve: async (group, _args, context) => (await memberCountsFor(context, group.userId)).get(group.id) ?? 0,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const UpdateGroupInput = builder.inputType('UpdateGroupInput', {
  fields: (t) => ({
    name: t.string(),
    defaultFrequency: t.field({ type: FrequencyPreferenceEnum, description: 'null clears it' }),
  }),
})

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ scope: 'contacts:write' })
  return {
    createGroup: authenticated.field({
      type: GroupNode,
      args: { name: t.arg.string({ required: true }), defaultFrequency: t.arg({ type: FrequencyPreferenceEnum }) },
      resolve: (_root, { name, defaultFrequency }, context) => createGroup(context, context.userId, name, context.quotas.groups, defaultFrequency ?? null),
    }),
    updateGroup: authenticated.field({
      type: GroupNode,
      description: "Renames the group and/or sets its default cadence (members without their own frequency follow it).",
      args: { id: t.arg.globalID({ required: true, for: GroupNode }), input: t.arg({ type: UpdateGroupInput, required: true }) },
      resolve: (_root, { id, input }, context) => updateGroup(context, context.userId, id.id, input, context.clock.now()),
    }),
    deleteGroup: authenticated.boolean({
      description: 'Deletes the group; its members leave it (their cadence is recomputed). True when it existed.',
      args: { id: t.arg.globalID({ required: true, for: GroupNode }) },
      resolve: (_root, { id }, context) => deleteGroup(context, context.userId, id.id, context.clock.now()),
    }),
  }
})
