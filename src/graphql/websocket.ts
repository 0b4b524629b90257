/**
 * graphql-ws on the same server and path as HTTP, through `yoga.getEnveloped`
 * so both transports run the same envelop plugins (parse, validate, context,
 * execute, subscribe; Yoga's own request plugins do not run here). A bad or
 * missing token closes the socket with 4403 (graphql-ws convention).
 * Returns the function that closes every socket.
 */
import type { Server } from 'node:http'
import type { ExecutionArgs } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import type { YogaServerInstance } from 'graphql-yoga'
import { WebSocketServer } from 'ws'
import { bearerToken, userIdForToken } from '../auth/tokens.ts'
import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import type { GraphQLContext } from './context.ts'
import { documentErrors } from './errors.ts'
import { logSocketErrorsAsClientErrors } from './socket-errors.ts'

type Enveloped = ReturnType<YogaServerInstance<Record<string, never>, GraphQLContext>['getEnveloped']>

export function attachGraphQLWs(
  server: Server,
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>,
  db: Database,
  logger: Logger,
): () => Promise<void> {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint })
  const disposable = useServer(
    {
      onConnect: async ({ connectionParams }) => {
        const header = connectionParams?.authorization
        const token = bearerToken(typeof header === 'string' ? header : undefined)
        return token !== undefined && (await userIdForToken(db.prisma, token, new Date())) !== null
      },
      execute: (args) => (args.rootValue as { execute: Enveloped['execute'] }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: Enveloped['subscribe'] }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({ ...ctx, connectionParams: ctx.connectionParams, params })
        // The context first: validation rules that depend on the viewer (production's anonymous guard) read it.
        const contextValue = await enveloped.contextFactory()
        let document
        try {
          document = enveloped.parse(params.query)
        } catch (error) {
          // An error message for this operation, not a 4500 close with the error printed as "internal".
          return documentErrors(logger, 'parse', [error])
        }
        const errors = enveloped.validate(enveloped.schema, document)
        if (errors.length > 0) return documentErrors(logger, 'validate', errors)
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        }
        return args
      },
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors }, 'graphql-ws operation errors')
      },
    },
    wsServer,
  )
  logSocketErrorsAsClientErrors(wsServer, logger)
  return async () => {
    await disposable.dispose()
    wsServer.close()
  }
}
