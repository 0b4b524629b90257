/** The viewer's groups: the Group node and `createGroup` (membership is set on the contact: `setContactGroups`, contact.ts). */
import { createGroup } from '../../groups/groups.ts'
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'

export const GroupNode = builder.prismaNode('Group', {
  id: { field: 'id' },
  nullable: true,
  // Node lookups only ever see the viewer's own rows.
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.mutationField('createGroup', (t) =>
  t.withAuth({ authenticated: true }).field({
    type: GroupNode,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, context) => createGroup(context, context.userId, name, context.quotas.groups),
  }),
)
