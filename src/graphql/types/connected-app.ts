/**
 * Connected apps (issue 16, OAuth 2.0): the apps the viewer connected (`connectedApps`), disconnecting one
 * (`revokeConnectedApp`), and, for developers, registering an app (`registerOAuthApp`). These are the
 * user's own business: an API key or an app's token gets FORBIDDEN here. Thin resolvers over src/oauth/.
 */
import { ClientError } from '../../errors.ts'
import { registerOAuthClient, type RegisteredClient } from '../../oauth/clients.ts'
import { listConnectedApps, revokeConnectedApp, type ConnectedApp } from '../../oauth/grants.ts'
import { builder } from '../builder.ts'

const ConnectedAppType = builder.objectRef<ConnectedApp>('ConnectedApp').implement({
  description: 'An app the viewer connected through OAuth 2.0: it acts for the viewer within its scopes until disconnected.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The connection (its OAuth grant); revokeConnectedApp takes it' }),
    clientId: t.exposeString('clientId', { description: "The app's OAuth client_id" }),
    name: t.exposeString('name', { description: "The app's name, as its developer registered it" }),
    scopes: t.exposeStringList('scopes', { description: 'What the viewer allowed it, e.g. contacts:read' }),
    connectedAt: t.expose('connectedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the connection ends unless the app asks again; null: never' }),
  }),
})

const OAuthAppRegistrationType = builder.objectRef<RegisteredClient>('OAuthAppRegistration').implement({
  description: 'A registered app, with its client secret: shown this once, only its hash is stored.',
  fields: (t) => ({
    clientId: t.exposeString('clientId'),
    clientSecret: t.exposeString('clientSecret', { description: 'Shown once: keep it on the app\'s server (HTTP Basic at /oauth/token)' }),
    name: t.exposeString('name'),
    redirectUris: t.exposeStringList('redirectUris'),
    scopes: t.exposeStringList('scopes', { description: 'The scopes the app may ask users for' }),
  }),
})

const RegisterOAuthAppInput = builder.inputType('RegisterOAuthAppInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Shown to users on the consent page (1 to 100 characters)' }),
    redirectUris: t.stringList({ required: true, description: '1 to 10 absolute URLs: https, or http on 127.0.0.1, [::1] or localhost' }),
    scopes: t.stringList({ required: true, description: 'The scopes the app may ask for: contacts:read, contacts:write, suggestions:read, suggestions:subscribe, suggestions:write, calendar:read, calendar:write, imports:write, schema:introspect' }),
  }),
})

builder.queryField('connectedApps', (t) =>
  t.withAuth({ session: true }).field({
    type: [ConnectedAppType],
    nullable: true,
    description: 'The apps the viewer connected, newest first.',
    resolve: (_root, _args, context) => {
      return listConnectedApps(context.prisma, context.userId, context.clock.now())
    },
  }),
)

builder.mutationField('revokeConnectedApp', (t) =>
  t.withAuth({ session: true }).boolean({
    description:
      "Disconnects an app: its tokens stop working at once, and the streams it opened end within seconds (graphql-ws closes with 4403). Another user's or an unknown id: NOT_FOUND.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      await revokeConnectedApp(context, context.userId, String(id))
      return true
    },
  }),
)

builder.mutationField('registerOAuthApp', (t) =>
  t.withAuth({ session: true }).field({
    type: OAuthAppRegistrationType,
    description:
      'Registers an OAuth 2.0 app (authorization code with PKCE, confidential client): its client id and secret, the secret shown this once. For developers only (FORBIDDEN otherwise); at most 20 apps each.',
    args: { input: t.arg({ type: RegisterOAuthAppInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const user = await context.prisma.user.findUnique({ where: { id: context.userId }, select: { isDeveloper: true } })
      if (!user?.isDeveloper) throw new ClientError('FORBIDDEN', 'Only developers register apps (npm run oauth-client -- --developer <email>)')
      try {
        return await registerOAuthClient(context.prisma, { ...input, ownerId: context.userId })
      } catch (error) {
        // The domain names the input's field; the API names it from the argument.
        if (error instanceof ClientError && error.code === 'BAD_USER_INPUT' && typeof error.details.field === 'string') {
          throw new ClientError('BAD_USER_INPUT', error.message, { ...error.details, field: `input.${error.details.field}` })
        }
        throw error
      }
    },
  }),
)
