import { builder } from '../builder.ts'
import { requireUser } from '../context.ts'

export const GroupNode = builder.prismaNode('Group', {
  id: { field: 'id' },
  nullable: true,
  // Node lookups only ever see the viewer's own rows.
  findUnique: (id, context) => ({ id, userId: requireUser(context) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})
