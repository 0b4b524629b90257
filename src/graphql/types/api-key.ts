/**
 * The viewer's personal API keys (issue 16): list, create (the key is in the answer, once) and
 * revoke. Managing keys is the user's own session's only: a key never makes or ends keys.
 */
import { createApiKey, DEFAULT_API_KEY_DAYS, findApiKey, listApiKeys, MAX_API_KEY_DAYS, MAX_API_KEY_NAME, revokeApiKey } from '../../auth/api-keys.ts'
import { SCOPES } from '../../auth/scopes.ts'
import type { AuthToken } from '../../generated/prisma/client.ts'
import { builder } from '../builder.ts'
import { viewerOf } from '../context.ts'

/** The ApiKey node: an `AuthToken` row of kind API_KEY, loaded with the viewer in its `where`. */
export const ApiKeyType = builder.objectRef<AuthToken>('ApiKey')
builder.node(ApiKeyType, {
  description: 'A personal API key of the viewer. Only its SHA-256 and its first characters are stored: the key itself was shown once, when it was made.',
  id: { resolve: (key) => key.id },
  loadOne: (id, context) => findApiKey(context.prisma, viewerOf(context), id),
  fields: (t) => ({
    name: t.string({ resolve: (key) => key.name ?? '' }),
    displayPrefix: t.string({ description: 'The first characters of the key (`prm_key_` and 4 more), to tell keys apart', resolve: (key) => key.displayPrefix ?? '' }),
    scopes: t.stringList({ description: `What the key may do: some of ${SCOPES.join(', ')}`, resolve: (key) => key.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When it stops working: every key expires', resolve: (key) => key.expiresAt ?? key.createdAt }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Last authenticated request, to within an hour; null: never used' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
})

const CreatedApiKeyType = builder.objectRef<{ apiKey: AuthToken; key: string }>('CreatedApiKey').implement({
  description: 'A key just made, and the key itself: copy it now, it is never shown again.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyType, resolve: (created) => created.apiKey }),
    key: t.exposeString('key', { description: 'The key, to send as `Authorization: Bearer <key>` (graphql-ws: connectionParams.authorization). Shown once.' }),
  }),
})

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: `What the key is for, 1..${MAX_API_KEY_NAME} characters` }),
    scopes: t.stringList({ required: true, description: `At least one of ${SCOPES.join(', ')}` }),
    expiresInDays: t.int({ description: `1..${MAX_API_KEY_DAYS}; default ${DEFAULT_API_KEY_DAYS}` }),
  }),
})

builder.queryField('apiKeys', (t) =>
  t.withAuth({ session: true }).field({
    type: [ApiKeyType],
    nullable: true,
    description: "The viewer's API keys, newest first (revoked and expired ones too; at most 500).",
    resolve: (_root, _args, context) => listApiKeys(context.prisma, context.userId),
  }),
)

builder.mutationFields((t) => {
  const session = t.withAuth({ session: true })
  return {
    createApiKey: session.field({
      type: CreatedApiKeyType,
      description: `Makes a personal API key with these scopes, expiring in \`expiresInDays\` (default ${DEFAULT_API_KEY_DAYS}, at most ${MAX_API_KEY_DAYS}); the answer holds the key, once. An API key cannot make keys. Keys and session tokens share MAX_TOKENS_PER_USER (RATE_LIMITED past it).`,
      args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
      resolve: (_root, { input }, context) =>
        createApiKey(context.prisma, context.userId, input, { maxActive: context.maxTokensPerUser, now: context.clock.now() }),
    }),
    revokeApiKey: session.field({
      type: ApiKeyType,
      description:
        "Revokes one of the viewer's API keys: its requests are refused from now on, on every process, and its streams end within seconds (graphql-ws closes with 4403). Idempotent; another user's or an unknown id: NOT_FOUND.",
      args: { id: t.arg.globalID({ required: true, for: ApiKeyType }) },
      resolve: (_root, { id }, context) => revokeApiKey(context, context.userId, id.id, context.clock.now()),
    }),
  }
})
