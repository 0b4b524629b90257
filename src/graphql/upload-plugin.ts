/**
 * Streaming file uploads for `importContacts(file: File!)` / `importCalendar(file: File!)`, by
 * the GraphQL multipart request spec. Yoga's own multipart parser reads the whole body into
 * memory before execution (graphql-yoga #4409, whatwg-node #821): a 100 MB file would be
 * 100 MB of heap per request. This plugin replaces it for multipart POSTs to /graphql:
 *
 * 1. authenticates the request (401 UNAUTHENTICATED before reading the body);
 * 2. streams the body through busboy, which the spec lets read in order: `operations` (the
 *    GraphQL request, at most `maxFieldBytes`), `map` (which variable each file fills), then
 *    ONE file part (a second file, an unknown field or a part out of order: 400 BAD_REQUEST);
 * 3. parses the document (bounded by MAX_TOKENS) to learn which import the file goes to (the
 *    `file` argument of `importContacts` or `importCalendar` must be the mapped variable),
 *    then streams the file part straight into upload storage (imports/upload.ts: 64 KiB chunks,
 *    IMPORT_MAX_BYTES 413, content check 415, caps 429) as a QUEUED Import whose job is not
 *    queued yet;
 * 4. gives Yoga the request's params with a {@link StagedUpload} in place of the file: the
 *    mutation takes it and queues the job. An upload no mutation took (the operation failed
 *    validation, a limit refused it) is deleted when the response is sent.
 *
 * The CSRF rule still applies before this (csrf.ts: a multipart POST needs the
 * `x-graphql-yoga-csrf` header), and the request body limit (MAX_REQUEST_BODY_BYTES) does not:
 * the file has IMPORT_MAX_BYTES, the other parts `maxFieldBytes`.
 */
import { Readable } from 'node:stream'
import busboy from 'busboy'
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql'
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga'
import type { ImportKind, PrismaClient } from '../generated/prisma/client.ts'
import { ClientError } from '../errors.ts'
import { forbiddenScopeMessage } from '../auth/scopes.ts'
import { formatOfUpload, storeUpload, UploadRefused, type ImportFormat, type UploadLimits } from '../imports/upload.ts'
import type { Logger } from '../logger.ts'
import { StagedUpload } from './staged-upload.ts'

export interface UploadPluginOptions {
  prisma: PrismaClient
  /** The viewer of a request (the same lookup as the context's: once per request). */
  userIdOfRequest: (request: Request) => Promise<string | null>
  /**
   * Whether the request's credential may import (a partner's needs imports:write), asked before
   * anything is stored; default: yes. The import mutations check it again when they run.
   */
  mayImport?: (request: Request) => Promise<boolean>
  limits: UploadLimits
  /** Largest `operations` or `map` part, bytes. */
  maxFieldBytes: number
  /** MAX_TOKENS: the document is parsed here, before Yoga's limits see it. */
  maxTokens: number
  now: () => Date
  logger: Logger
}

/** The import mutation of each kind, and the argument the file goes in. */
const IMPORT_FIELDS: Record<string, ImportKind> = { importContacts: 'CONTACTS', importCalendar: 'CALENDAR' }

/** Is this a multipart POST (the only requests this plugin takes)? */
export function isMultipartPost(request: Request): boolean {
  return request.method === 'POST' && (request.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')
}

function refusal(code: string, message: string, status: number, extensions: Record<string, unknown> = {}) {
  return createGraphQLError(message, { extensions: { ...extensions, code, http: { status } } })
}

const badRequest = (message: string) => refusal('BAD_REQUEST', message, 400)

/** The error an upload refusal or a client error becomes. */
function asGraphQLError(error: unknown): unknown {
  if (error instanceof UploadRefused) return refusal(error.code, error.message, error.status, error.details)
  if (error instanceof ClientError) return refusal(error.code, error.message, 400, error.details)
  return error
}

/** `operations`: one GraphQL request (a batch is refused), its document parsed with the token bound. */
function readOperations(value: string, maxTokens: number): { params: GraphQLParams; document: DocumentNode } {
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch {
    throw badRequest('operations is not JSON')
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw badRequest('operations must be one GraphQL request (an object; batches are not accepted)')
  const { query, variables, operationName, extensions } = json as Record<string, unknown>
  if (typeof query !== 'string') throw badRequest('operations.query must be a string')
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) throw badRequest('operations.variables must be an object')
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') throw badRequest('operations.operationName must be a string')
  let document: DocumentNode
  try {
    document = parse(query, { maxTokens, noLocation: true })
  } catch (error) {
    if (error instanceof RangeError) throw refusal('QUERY_TOO_COMPLEX', 'The document is nested too deeply to parse', 400)
    throw refusal('BAD_USER_INPUT', `operations.query: ${error instanceof Error ? error.message.slice(0, 200) : 'syntax error'}`, 400)
  }
  return {
    params: {
      query,
      variables: { ...((variables as Record<string, unknown> | null | undefined) ?? {}) },
      ...(typeof operationName === 'string' ? { operationName } : {}),
      ...(extensions !== null && typeof extensions === 'object' && !Array.isArray(extensions) ? { extensions: extensions as Record<string, unknown> } : {}),
    },
    document,
  }
}

/** `map`: exactly one file, filling one top-level variable: `{"<part>": ["variables.<name>"]}`. */
function readMap(value: string): { part: string; variable: string } {
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch {
    throw badRequest('map is not JSON')
  }
  const entries = json !== null && typeof json === 'object' && !Array.isArray(json) ? Object.entries(json) : []
  if (entries.length !== 1) throw badRequest('map must name exactly one file')
  const [part, paths] = entries[0]!
  if (!Array.isArray(paths) || paths.length !== 1 || typeof paths[0] !== 'string' || !/^variables\.[_A-Za-z][_0-9A-Za-z]*$/.test(paths[0])) {
    throw badRequest('map must send its file to one variable: {"0": ["variables.file"]}')
  }
  return { part, variable: paths[0].slice('variables.'.length) }
}

/** The kind of import whose `file` argument is `$variable` in the operation Yoga will execute. */
function kindOfVariable(document: DocumentNode, operationName: string | undefined, variable: string): ImportKind {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
  const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((candidate) => candidate.name?.value === operationName)
  if (!operation) throw badRequest('operations names no single operation to run')
  const kinds = new Set<ImportKind>()
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || !Object.hasOwn(IMPORT_FIELDS, selection.name.value)) continue
    const file = selection.arguments?.find((argument) => argument.name.value === 'file')
    if (file?.value.kind === Kind.VARIABLE && file.value.name.value === variable) kinds.add(IMPORT_FIELDS[selection.name.value]!)
  }
  if (operation.operation !== 'mutation' || kinds.size !== 1) {
    throw refusal('BAD_USER_INPUT', `A file can only be sent as the file argument of one importContacts or importCalendar mutation ($${variable})`, 400, { field: 'file' })
  }
  return [...kinds][0]!
}

const EXTENSIONS: Record<string, ImportFormat> = { vcf: 'vcard', vcard: 'vcard', csv: 'csv', ics: 'ics', ical: 'ics', ifb: 'ics' }

/** The format of a file part: its Content-Type, else its file name's extension (browsers label .csv inconsistently). */
function formatOfPart(kind: ImportKind, mimeType: string, filename: string | undefined): ImportFormat {
  try {
    return formatOfUpload(kind, mimeType, null)
  } catch (error) {
    const extension = filename?.toLowerCase().match(/\.([a-z]+)$/)?.[1]
    const format = extension === undefined ? undefined : EXTENSIONS[extension]
    if (format === undefined) throw error
    return formatOfUpload(kind, null, format)
  }
}

/**
 * The bytes of a request body as they arrive. Yoga's Request may be its ponyfill (whose stream
 * Node's `Readable.fromWeb` refuses), so it is read through its reader; never cancelled (see `fail`).
 */
async function* bytesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    yield value
  }
}

/** A file part's bytes; its stream failing (a body cut short, a malformed part) is the client's 400. */
async function* clientBytes(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield* stream
  } catch (error) {
    throw new UploadRefused('BAD_REQUEST', `The file part was cut short or malformed${error instanceof Error ? `: ${error.message.slice(0, 100)}` : ''}`, 400)
  }
}

/** Yoga plugin: multipart POSTs to the GraphQL endpoint are parsed as streaming uploads (see the module comment). */
export function useStreamingUploads(options: UploadPluginOptions): Plugin {
  const staged = new WeakMap<Request, StagedUpload>()

  async function parseUpload(request: Request): Promise<GraphQLParams> {
    const userId = await options.userIdOfRequest(request)
    if (!userId) throw refusal('UNAUTHENTICATED', 'Sign in: send a valid token as `Authorization: Bearer <token>`', 401)
    if (options.mayImport && !(await options.mayImport(request))) throw refusal('FORBIDDEN', forbiddenScopeMessage('imports:write'), 403, { scope: 'imports:write' })
    const contentLength = request.headers.get('content-length')
    if (contentLength !== null && Number(contentLength) > options.limits.maxBytes + 2 * options.maxFieldBytes + 64 * 1024) {
      throw refusal('BAD_REQUEST', `The file is larger than ${options.limits.maxBytes} bytes (IMPORT_MAX_BYTES).`, 413, { limit: options.limits.maxBytes })
    }
    if (!request.body) throw badRequest('The request has no body')
    let parser: busboy.Busboy
    try {
      parser = busboy({
        headers: { 'content-type': request.headers.get('content-type') ?? '' },
        limits: { fieldNameSize: 100, fieldSize: options.maxFieldBytes, fields: 2, files: 1, parts: 4, headerPairs: 20, fileSize: options.limits.maxBytes + 1 },
      })
    } catch {
      throw badRequest('multipart/form-data needs a boundary')
    }
    const source = Readable.from(bytesOf(request.body), { objectMode: false })

    return new Promise<GraphQLParams>((resolve, reject) => {
      let operations: ReturnType<typeof readOperations> | undefined
      let map: ReturnType<typeof readMap> | undefined
      let upload: Promise<StagedUpload> | undefined
      let file: Readable | undefined
      let failed = false

      const fail = (error: unknown) => {
        if (failed) return
        failed = true
        // The rest of the body is read and dropped (at most IMPORT_MAX_BYTES more, then the stream stops):
        // cancelling it would destroy the socket before the refusal is written, and closing the connection
        // at once resets a client still sending (it sees EPIPE, not the answer).
        source.unpipe(parser)
        let left = options.limits.maxBytes
        source.on('data', (chunk: Uint8Array) => {
          left -= chunk.byteLength
          if (left < 0) source.destroy()
        })
        source.resume()
        // A file being stored gets no more bytes: ending it makes storeUpload stop and delete what it wrote.
        file?.destroy()
        // An upload stored before the failure (e.g. a second file after it) is not kept.
        void upload?.then((stored) => options.prisma.import.deleteMany({ where: { id: stored.importId } })).catch(() => {})
        reject(asGraphQLError(error))
      }
      const guard = (fn: () => void) => {
        try {
          fn()
        } catch (error) {
          fail(error)
        }
      }

      parser.on('field', (name, value, info) =>
        guard(() => {
          if (info.valueTruncated || info.nameTruncated) throw refusal('BAD_REQUEST', `The ${name.slice(0, 20)} part is larger than ${options.maxFieldBytes} bytes.`, 413)
          if (name === 'operations' && !operations) operations = readOperations(value, options.maxTokens)
          else if (name === 'map' && operations && !map) map = readMap(value)
          else throw badRequest('The parts must be operations, then map, then the file')
        }),
      )
      parser.on('file', (name, stream, info) => {
        // busboy destroys a file stream with the body's error (a body cut short): that error is the
        // parser's too, answered there; unheard on the stream it would be an uncaught exception.
        stream.on('error', () => {})
        if (failed || !operations || !map || upload || name !== map.part) {
          stream.resume()
          return fail(badRequest(upload ? 'Send one file per request' : 'The parts must be operations, then map, then the file named in map'))
        }
        let kind: ImportKind
        let format: ImportFormat
        try {
          kind = kindOfVariable(operations.document, operations.params.operationName, map.variable)
          format = formatOfPart(kind, info.mimeType, info.filename)
        } catch (error) {
          stream.resume()
          return fail(error)
        }
        file = stream
        upload = storeUpload(options.prisma, { userId, kind, format, body: clientBytes(stream), now: options.now() }, options.limits).then(
          (stored) => new StagedUpload(stored.id, userId, kind),
        )
        upload.catch(fail)
      })
      for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) parser.on(limit, () => fail(badRequest('Send operations, map and one file, nothing else')))
      // busboy's errors are all about the body it was given: the client's.
      parser.on('error', (error) => fail(badRequest(`Malformed multipart body: ${error instanceof Error ? error.message.slice(0, 100) : 'unreadable'}`)))
      source.on('error', () => fail(badRequest('The upload was interrupted')))
      parser.on('close', () => {
        if (failed) return
        if (!operations || !map) return fail(badRequest('The multipart body needs operations and map parts'))
        if (!upload) return fail(badRequest(`The file part ${map.part.slice(0, 20)} named in map is missing`))
        const params = operations.params
        const variable = map.variable
        upload.then(
          (stored) => {
            if (failed) return
            staged.set(request, stored)
            params.variables = { ...params.variables, [variable]: stored }
            resolve(params)
          },
          () => {}, // fail() has answered
        )
      })
      source.pipe(parser)
    })
  }

  return {
    onRequestParse({ request, setRequestParser }) {
      if (isMultipartPost(request)) setRequestParser(parseUpload)
    },
    onResponse({ request }) {
      const upload = staged.get(request)
      if (!upload || upload.claimed) return
      staged.delete(request)
      // No mutation took it (validation, a limit, an error before execution): the file is not kept.
      return options.prisma.import
        .deleteMany({ where: { id: upload.importId, status: 'QUEUED' } })
        .then(() => undefined)
        .catch((error: unknown) => options.logger.warn({ err: error, importId: upload.importId }, 'could not delete an unclaimed upload'))
    },
  }
}
