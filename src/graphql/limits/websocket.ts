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
export function parseAndValidateOperation(enveloped: ParseAndValidate, query: string): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode
  try {
    document = enveloped.parse(query)
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [forSocket(error)] }
    throw error
  }
  const errors = enveloped.validate(enveloped.schema, document)
  return errors.length > 0 ? { errors: errors.map(forSocket) } : { document }
}

/** What `ws` raises for a frame it refuses (too large, bad UTF-8, bad opcode...): it has closed the socket with the right code already. */
function isClientFrameError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && (error as unknown as { code: string }).code.startsWith('WS_ERR_')
}

/**
 * Keeps a client's refused frames (e.g. over `maxPayload`: `ws` closes with 1009) out of the
 * error log: graphql-ws prints every socket error with its stack (console.error) and closes
 * with 4500. Register before graphql-ws's `useServer`, so this sees each socket first.
 */
export function quietClientFrameErrors(wsServer: { on(event: 'connection', listener: (socket: { emit: (event: string | symbol, ...args: unknown[]) => boolean }) => void): unknown }, log: (error: Error) => void): void {
  wsServer.on('connection', (socket) => {
    const emit = socket.emit.bind(socket)
    socket.emit = (event, ...args) => {
      if (event === 'error' && isClientFrameError(args[0])) {
        log(args[0] as Error)
        return true
      }
      return emit(event, ...args)
    }
  })
}
