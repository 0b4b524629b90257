/** The viewer's bearer tokens: list them, see which one this request uses, revoke one. */
import { listTokens, revokeToken } from '../../auth/token-management.ts'
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'

export const AuthTokenNode = builder.prismaNode('AuthToken', {
  description: 'A bearer token of the viewer (never the token itself: only its hash is stored).',
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'Null: it does not expire' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Last authenticated request, to within an hour; null: never used' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    current: t.boolean({
      description: 'Whether this request authenticated with this token',
      resolve: (token, _args, context) => token.id === context.credential?.tokenId,
    }),
  }),
})

builder.queryField('tokens', (t) =>
  t.withAuth({ session: true }).field({
    type: [AuthTokenNode],
    nullable: true,
    description: "The viewer's session tokens, newest first (revoked and expired ones too; at most 500). API keys: apiKeys.",
    resolve: (_root, _args, context) => listTokens(context.prisma, context.userId),
  }),
)

builder.mutationField('revokeToken', (t) =>
  t.withAuth({ session: true }).field({
    type: AuthTokenNode,
    description:
      "Revokes one of the viewer's tokens (the current one too): its requests fail from now on, and the streams it opened end within seconds (graphql-ws closes with 4403). Idempotent; another user's or an unknown id: NOT_FOUND.",
    args: { id: t.arg.globalID({ required: true, for: AuthTokenNode }) },
    resolve: (_root, { id }, context) => revokeToken(context, context.userId, id.id, context.clock.now()),
  }),
)
