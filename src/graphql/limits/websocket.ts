/**
 * The document limits over graphql-ws. There, `onSubscribe` parses and
 * validates itself, and anything it throws closes the whole socket with 4500;
 * this answers the one operation with its errors instead (the socket stays open).
 */
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql'
import { withoutHttpStatus } from './errors.ts'

interface ParseAndValidate {
  schema: GraphQLSchema
  parse(source: string): DocumentNode
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[]
}

const forSocket = withoutHttpStatus

/**
 * Parses and validates `query` through the enveloped functions (so every limit applies):
 * the document, or the errors to answer the operation with. Errors other than GraphQL
 * errors are bugs and are thrown.
 */
export function parseAndValidateOperation(
  enveloped: ParseAndValidate,
  query: string,
): { document: DocumentNode } | { errors: GraphQLError[]; stage: 'parse' | 'validate' } {
  let document: DocumentNode
  try {
    document = enveloped.parse(query)
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [forSocket(error)], stage: 'parse' }
    throw error
  }
  const errors = enveloped.validate(enveloped.schema, document)
  return errors.length > 0 ? { errors: errors.map(forSocket), stage: 'validate' } : { document }
}

/** What `ws` raises for a frame it refuses (too large, bad UTF-8, bad opcode...): it has closed the socket with the right code already. */
function isClientFrameError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && (error as unknown as { code: string }).code.startsWith('WS_ERR_')
}

/** Message types only a server sends: graphql-ws throws on them (4500 and a console.error) instead of closing with 4400. */
const SERVER_ONLY_TYPES = new Set(['next', 'error', 'connection_ack'])

/** The type of a message a server must never receive, or undefined; parses only frames that may be one. */
function serverOnlyType(data: unknown): string | undefined {
  const text = String(data)
  if (!/"(next|error|connection_ack)"/.test(text)) return undefined
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type
    return typeof type === 'string' && SERVER_ONLY_TYPES.has(type) ? type : undefined
  } catch {
    return undefined
  }
}

type SendCallback = (error?: Error) => void

interface ClientSocket {
  emit: (event: string | symbol, ...args: unknown[]) => boolean
  close(code: number, reason: string): void
  terminate(): void
  send(data: unknown, ...rest: unknown[]): void
  /** Bytes queued for the client and not yet written to the kernel. */
  readonly bufferedAmount: number
}

/** A write that failed because the client went away mid-send: its doing, nothing to report. */
function isClientGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED'
}

/**
 * Bounds what a socket may hold for a client that does not read: past `maxBufferedBytes`
 * queued, the socket is cut (the client is not reading, so a close frame would queue too),
 * and the results it would have got are dropped instead of piling up on the heap. A write
 * that fails because the client left (EPIPE, ECONNRESET) completes quietly: graphql-ws
 * would print it with a stack and answer 4500, as for a bug of ours.
 */
function guardSends(socket: ClientSocket, maxBufferedBytes: number, log: (error: Error) => void): void {
  const send = socket.send.bind(socket)
  socket.send = (data: unknown, ...rest: unknown[]) => {
    const callback = rest.find((arg): arg is SendCallback => typeof arg === 'function')
    const options = rest.find((arg) => typeof arg === 'object' && arg !== null)
    if (socket.bufferedAmount > maxBufferedBytes) {
      socket.terminate()
      log(Object.assign(new Error(`the client read nothing while ${socket.bufferedAmount} bytes waited`), { code: 'WS_CLIENT_NOT_READING' }))
      callback?.()
      return
    }
    const done: SendCallback = (error) => {
      if (error && isClientGone(error)) {
        log(error)
        callback?.()
      } else {
        callback?.(error)
      }
    }
    if (options) send(data, options, done)
    else send(data, done)
  }
}

/**
 * Answers a client's protocol mistakes as a client's, before graphql-ws sees them: a refused
 * frame (e.g. over `maxPayload`, which `ws` closes with 1009) is logged with `log` instead of
 * graphql-ws's console.error with a stack, and a server-only message type (`next`...) closes
 * with 4400 instead of graphql-ws's 4500. Sends are bounded (see {@link guardSends}).
 * Register before graphql-ws's `useServer`.
 */
export function guardClientFrames(
  wsServer: { on(event: 'connection', listener: (socket: ClientSocket) => void): unknown },
  log: (error: Error) => void,
  maxBufferedBytes = 8 * 1024 * 1024,
): void {
  wsServer.on('connection', (socket) => {
    guardSends(socket, maxBufferedBytes, log)
    const emit = socket.emit.bind(socket)
    socket.emit = (event, ...args) => {
      if (event === 'error' && isClientFrameError(args[0])) {
        log(args[0] as Error)
        return true
      }
      const type = event === 'message' ? serverOnlyType(args[0]) : undefined
      if (type !== undefined) {
        socket.close(4400, `Unexpected message of type ${type} received`)
        return true
      }
      return emit(event, ...args)
    }
  })
}
