/**
 * graphql-ws on the same server and path as HTTP, through `yoga.getEnveloped`
 * so both transports run the same envelop plugins (parse, validate, context,
 * execute, subscribe; Yoga's own request plugins do not run here). A bad or
 * missing token closes the socket with 4403 (graphql-ws convention), and so
 * does its token's revocation or expiry later (see `auth/token-watch.ts`).
 * Returns the function that closes every socket.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { getOperationAST, GraphQLError, type ExecutionArgs } from 'graphql'
import { createGraphQLError } from 'graphql-yoga'
import { useServer } from 'graphql-ws/use/ws'
import type { YogaServerInstance } from 'graphql-yoga'
import { WebSocketServer } from 'ws'
import { authenticate, type Credential } from '../auth/authenticate.ts'
import type { TokenWatch } from '../auth/token-watch.ts'
import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import type { Clock } from '../clock.ts'
import type { GraphQLContext } from './context.ts'
import { documentErrors } from './errors.ts'
import { withoutHttpStatus } from './limits/errors.ts'
import { parseAndValidateOperation, guardClientFrames } from './limits/websocket.ts'
import type { TrustedDocuments } from './trusted-documents.ts'

type Enveloped = ReturnType<YogaServerInstance<Record<string, never>, GraphQLContext>['getEnveloped']>

/**
 * What `onSubscribe` hands graphql-ws: the execution arguments plus this operation's enveloped
 * `execute` and `subscribe` (so the envelop plugins run), on the arguments as in graphql-yoga's
 * graphql-ws example, not in `rootValue`, which root resolvers would receive as their parent.
 */
type EnvelopedExecutionArgs = ExecutionArgs & Pick<Enveloped, 'execute' | 'subscribe'>

export function attachGraphQLWs(
  server: Server,
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>,
  db: Database,
  logger: Logger,
  tokenWatch: TokenWatch,
  /** Where the time is read: a token expired at `clock.now()` is refused. */
  clock: Clock,
  /** Largest frame read, bytes (ws closes with 1009 past it, from the frame header, before reading it). */
  maxPayloadBytes?: number,
  /** The credential of `connectionParams.authorization` (default: authenticate() without OAuth; app.ts passes its own, as for HTTP). */
  authenticateParams: (authorization: unknown) => Promise<Credential | null> = (authorization) => authenticate(db.prisma, authorization, clock.now()),
  /** Trusted documents (an id instead of the text; an app's trusted-only rule): Yoga's plugin does not run here. */
  trustedDocuments?: Pick<TrustedDocuments, 'socketOperation'>,
): () => Promise<void> {
  // Not `{ server }`: ws would re-emit the HTTP server's errors (a busy port's EADDRINUSE) on itself, where
  // graphql-ws prints them as "Internal error emitted on the WebSocket server"; listen() reports them instead.
  const wsServer = new WebSocketServer({ noServer: true, path: yoga.graphqlEndpoint, ...(maxPayloadBytes ? { maxPayload: maxPayloadBytes } : {}) })
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    wsServer.handleUpgrade(request, socket, head, (webSocket) => wsServer.emit('connection', webSocket, request))
  server.on('upgrade', onUpgrade)
  // A client that reads nothing may have at most four frames' worth queued (8 MiB by default) before its socket is cut.
  guardClientFrames(wsServer, (error) => logger.debug({ code: (error as { code?: string }).code }, 'graphql-ws frame refused'), 4 * (maxPayloadBytes ?? 2 * 1024 * 1024))
  const disposable = useServer(
    {
      onConnect: async ({ connectionParams, extra }) => {
        const credential = await authenticateParams(connectionParams?.authorization)
        // A socket that closed while we looked the token up would never unwatch.
        if (!credential || extra.socket.readyState !== extra.socket.OPEN) return false
        // The socket lives as long as its token: revoked or expired, it closes with 4403.
        const unwatch = tokenWatch.watch(credential, () => extra.socket.close(4403, 'Forbidden'))
        extra.socket.once('close', unwatch)
        return true
      },
      execute: (args) => (args as EnvelopedExecutionArgs).execute(args),
      subscribe: (args) => (args as EnvelopedExecutionArgs).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({ ...ctx, connectionParams: ctx.connectionParams, params })
        // The context first: validation rules that depend on the viewer (production's anonymous guard) read it.
        const contextValue = await enveloped.contextFactory()
        // A trusted document's id becomes its text, and an app on trusted documents only sends no text of its own.
        const operation = trustedDocuments ? await trustedDocuments.socketOperation(contextValue.credential ?? null, params) : { query: params.query }
        if ('errors' in operation) return operation.errors
        // The limits answer this operation with errors; a throw here would close the socket (4500).
        const checked = parseAndValidateOperation(enveloped, operation.query)
        if ('errors' in checked) return documentErrors(logger, checked.stage, checked.errors)
        const { document } = checked
        // As over HTTP (Yoga's own check): a document whose operation cannot be told apart gets a code,
        // not graphql-ws's bare "Unable to identify operation".
        if (!getOperationAST(document, params.operationName ?? undefined)) {
          return [createGraphQLError('Could not determine what operation to execute.', { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })]
        }
        const args: EnvelopedExecutionArgs = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          execute: enveloped.execute,
          subscribe: enveloped.subscribe,
        }
        return args
      },
      // `extensions.http` (a status for Yoga's HTTP answer, e.g. on variables that do not coerce) means nothing here.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.some((error) => 'http' in error.extensions)
          ? { ...result, errors: result.errors.map((error) => (error instanceof GraphQLError ? withoutHttpStatus(error) : error).toJSON()) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors }, 'graphql-ws operation errors')
      },
    },
    wsServer,
  )
  return async () => {
    server.off('upgrade', onUpgrade)
    await disposable.dispose()
    wsServer.close()
  }
}
