/** The viewer: the User node and `me`. */
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'
import { notFound } from '../../errors.ts'

export const UserNode = builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, context) => ({ id, AND: [{ id: viewerOf(context) }] }),
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    timezone: t.exposeString('timezone', { description: 'IANA time zone of the availability windows' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    isDeveloper: t.exposeBoolean('isDeveloper', { description: 'May register OAuth apps (registerOAuthApp)' }),
    groups: t.relation('groups', {
      description: "The user's groups, by name.",
      nullable: true,
      authScopes: { scope: 'contacts:read' },
      query: { orderBy: [{ name: 'asc' }, { id: 'asc' }] },
    }),
  }),
})

builder.queryField('me', (t) =>
  t.withAuth({ authenticated: true }).prismaField({
    type: 'User',
    description: 'The signed-in user (any credential: a partner sees whom it acts for).',
    resolve: async (query, _root, _args, context) => {
      const user = await context.prisma.user.findUnique({ ...query, where: { id: context.userId } })
      if (!user) throw notFound('user')
      return user
    },
  }),
)
