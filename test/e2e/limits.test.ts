/**
 * Issue 10, kinds 1, 3 and 5: every limit on what a client sends, on every
 * transport (HTTP GET, HTTP POST, SSE, graphql-ws), against a real server with
 * small limits. Each refusal carries its code (QUERY_TOO_COMPLEX or
 * BAD_REQUEST) and HTTP status, logs nothing at error level, and over
 * graphql-ws leaves the socket open. Before the limits each of these
 * documents executed (or, nested too deeply, failed with INTERNAL_SERVER_ERROR).
 */
import { readFileSync } from 'node:fs'
import { getIntrospectionQuery, print } from 'graphql'
import { pino } from 'pino'
import { formatDocument } from '@urql/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildApp, type App } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import { costError } from '../../src/graphql/limits/query-cost.ts'
import { GRAPHIQL_DEFAULT_QUERY } from '../../src/http/graphiql.ts'
import { allDocuments } from '../../web/src/api/documents.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { RawGraphQLWs } from '../helpers/raw-ws.ts'
import { runOperation, TRANSPORTS, type Operation, type OperationResult, type Transport } from '../helpers/transports.ts'

const LIMITS = {
  MAX_REQUEST_BODY_BYTES: '16384',
  MAX_DOCUMENT_BYTES: '4096',
  MAX_TOKENS: '300',
  MAX_DEPTH: '6',
  MAX_ALIASES: '5',
  MAX_DIRECTIVES: '5',
  MAX_QUERY_COST: '2000',
  WS_MAX_PAYLOAD_BYTES: '65536',
}

interface LoggedServer {
  app: App
  url: string
  logs: Record<string, unknown>[]
}

async function startServer(db: TestDatabase, env: Record<string, string>): Promise<LoggedServer> {
  const logs: Record<string, unknown>[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
  const app = buildApp({ config: { ...parseConfig({ NODE_ENV: 'test', ...env }), port: 0, host: '127.0.0.1' }, db, logger })
  const { url } = await app.start()
  return { app, url, logs }
}

const codes = (result: OperationResult) => result.errors.map((error) => error.extensions?.code)
const nested = (levels: number, open: string, inner: string, close: string) => `${open.repeat(levels)}${inner}${close.repeat(levels)}`

/** What every refusal must look like on `transport`: the code, the HTTP status, and graphql-ws's socket still answering. */
function expectRefused(transport: Transport, result: OperationResult, code: 'QUERY_TOO_COMPLEX' | 'BAD_REQUEST', status: number) {
  expect(result.data ?? null).toBeNull()
  expect(codes(result)).toEqual([code])
  if (transport === 'WS') {
    expect(result.closeCode).toBeUndefined()
    expect(result.socketStillAnswers).toBe(true)
    // HTTP's status is for HTTP: not sent over the socket.
    expect(result.errors[0]!.extensions).not.toHaveProperty('http')
  } else if (transport === 'SSE') {
    expect([status, 200]).toContain(result.status)
  } else {
    expect(result.status).toBe(status)
  }
  expect(result.errors[0]!.extensions).not.toHaveProperty('http')
}

// graphql-ws prints socket errors with console.error (stacks included).
const consoleErrors = vi.spyOn(globalThis.console, 'error').mockImplementation(() => {})
afterAll(() => consoleErrors.mockRestore())

describe('request limits', () => {
  let db: TestDatabase
  let server: LoggedServer
  let deep: LoggedServer
  let alice: FixtureUser

  // Signed in, so that graphql-ws (which refuses anonymous sockets) and HTTP see the same requests.
  const run = (transport: Transport, url: string, operation: Operation) => runOperation(transport, url, { token: alice.token, ...operation })

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 30)
    server = await startServer(db, LIMITS)
    // Limits on size and tokens lifted: only the stack's depth is left to stop deep nesting.
    deep = await startServer(db, { MAX_TOKENS: '1000000', MAX_DOCUMENT_BYTES: '10000000', MAX_REQUEST_BODY_BYTES: '10000000', MAX_DEPTH: '100000', WS_MAX_PAYLOAD_BYTES: '10000000' })
  }, 60_000)
  afterAll(async () => {
    await server?.app.stop()
    await deep?.app.stop()
    await db?.destroy()
  })
  afterEach(() => {
    // None may come from a client.
    expect(consoleErrors.mock.calls).toEqual([])
    // Client-caused: nothing at error level, no stack anywhere.
    for (const { logs } of [server, deep]) {
      expect(logs.filter((entry) => Number(entry.level) >= 50)).toEqual([])
      expect(JSON.stringify(logs)).not.toMatch(/"stack"/)
      logs.length = 0
    }
  })

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('answers documents within the limits', async () => {
      const result = await run(transport, server.url, {
        query: 'query($first: Int) { a: __typename contacts(first: $first) { edges { node { id name } } } }',
        variables: { first: 10 },
        token: alice.token,
      })
      expect(result.errors).toEqual([])
      expect((result.data as { contacts: { edges: unknown[] } }).contacts.edges).toHaveLength(10)
    })

    it('refuses a document over MAX_DOCUMENT_BYTES before parsing it (BAD_REQUEST, 413)', async () => {
      const result = await run(transport, server.url, { query: `{ __typename } # ${'x'.repeat(4096)}` })
      expectRefused(transport, result, 'BAD_REQUEST', 413)
    })

    it('refuses a document over MAX_TOKENS while parsing it', async () => {
      const result = await run(transport, server.url, { query: `{ ${'__typename '.repeat(301)}}` })
      expectRefused(transport, result, 'QUERY_TOO_COMPLEX', 400)
    })

    it('refuses a document deeper than MAX_DEPTH', async () => {
      const result = await run(transport, server.url, { query: `{ ${nested(7, '... on Query { ', '__typename', ' }')} }` })
      expectRefused(transport, result, 'QUERY_TOO_COMPLEX', 400)
    })

    it('refuses more aliases than MAX_ALIASES, __typename included', async () => {
      const result = await run(transport, server.url, { query: `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: __typename`).join(' ')} }` })
      expectRefused(transport, result, 'QUERY_TOO_COMPLEX', 400)
    })

    it('refuses more directives than MAX_DIRECTIVES', async () => {
      const result = await run(transport, server.url, { query: `{ ${'__typename @include(if: true) '.repeat(6)}}` })
      expectRefused(transport, result, 'QUERY_TOO_COMPLEX', 400)
    })

    it('refuses a query over MAX_QUERY_COST before executing it, `first` from a variable counting', async () => {
      const query = 'query($first: Int) { contacts(first: $first) { edges { node { id } } } }'
      const byVariable = await run(transport, server.url, { query, variables: { first: 1000 } })
      expectRefused(transport, byVariable, 'QUERY_TOO_COMPLEX', 400)
      expect(byVariable.errors[0]!.extensions).toMatchObject({ limit: 'cost', cost: 3001, max: 2000 })
      const byLiteral = await run(transport, server.url, { query: '{ contacts(first: 700) { edges { node { id } } } }' })
      expectRefused(transport, byLiteral, 'QUERY_TOO_COMPLEX', 400)
    })

    it('refuses a document nested deeper than the parser can recurse with a code, not INTERNAL_SERVER_ERROR', async () => {
      // GET carries it in the URL (16 kB at most): nested lists, with the brackets left unencoded.
      const query =
        transport === 'GET' ? `query($v:Int=${nested(6000, '[', '', ']')}){__typename}` : `{ ${nested(10_000, '... on Query { ', '__typename', ' }')} }`
      const result =
        transport === 'GET'
          ? await fetch(`${deep.url}?query=${query}`, { headers: { accept: 'application/graphql-response+json' } }).then(async (response) => ({
              status: response.status,
              ...((await response.json()) as { errors: OperationResult['errors'] }),
            }))
          : await run(transport, deep.url, { query })
      expectRefused(transport, result, 'QUERY_TOO_COMPLEX', 400)
    })
  })

  describe.each(['POST', 'SSE'] as const)('the request body over %s', (transport) => {
    const accept = transport === 'SSE' ? 'text/event-stream' : 'application/graphql-response+json'
    const oversized = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(16_384) } })

    it('is refused from its Content-Length (413, BAD_REQUEST)', async () => {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: oversized })
      expect(response.status).toBe(413)
      expect(await response.text()).toContain('"code":"BAD_REQUEST"')
    })

    it('is refused while it is read when it comes without a Content-Length (chunked)', async () => {
      const encoded = new TextEncoder().encode(oversized)
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < encoded.length; offset += 1000) controller.enqueue(encoded.slice(offset, offset + 1000))
          controller.close()
        },
      })
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body, duplex: 'half' } as RequestInit)
      expect(response.status).toBe(413)
      expect(await response.text()).toContain('"code":"BAD_REQUEST"')
    })
  })

  it('closes a graphql-ws socket with 1009 on a frame over WS_MAX_PAYLOAD_BYTES, before authentication', async () => {
    const client = new RawGraphQLWs(server.url)
    await client.opened()
    client.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(65_536) } }))
    expect((await client.closed).code).toBe(1009)
  })

  it('still answers on a socket that had an operation refused', async () => {
    const client = new RawGraphQLWs(server.url)
    try {
      expect(await client.init(alice.token)).toBe(true)
      for (const query of [`{ ${'__typename '.repeat(301)}}`, `{ ${'__typename @skip(if: false) '.repeat(6)}}`, 'syntax error {']) {
        expect((await client.operation(query, { query })).errors).toHaveLength(1)
      }
      expect((await client.operation('ok', { query: '{ me { email } }' })).data).toEqual({ me: { email: 'alice@example.com' } })
    } finally {
      client.close()
    }
  })
})

describe('the default limits', () => {
  let db: TestDatabase
  let app: App

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    app = buildApp({ config: { ...parseConfig({ NODE_ENV: 'test' }), port: 0, host: '127.0.0.1' }, db, logger: pino({ level: 'silent' }) })
  }, 60_000)
  afterAll(async () => {
    await app?.stop().catch(() => {})
    await db?.destroy()
  })

  const documents = async (): Promise<[string, string, Record<string, unknown>][]> => {
    const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
    // The contacts page's size, as the web client asks for it.
    const pageSize = Number(/PAGE_SIZE = (\d+)/.exec(read('../../web/src/contacts/ContactsView.tsx'))![1])
    return [
      // What GraphiQL 5 sends (graphql-js's query with its options).
      ['GraphiQL introspection', getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }), {}],
      ['GraphiQL default document', GRAPHIQL_DEFAULT_QUERY, {}],
      ...Object.entries(allDocuments).map(([name, document]): [string, string, Record<string, unknown>] => [
        name,
        // As urql sends it: with `__typename` added to every selection.
        print(formatDocument(document as Parameters<typeof formatDocument>[0])),
        { first: pageSize, id: 'x', contactId: 'x', until: '2030-01-01T00:00:00Z', input: {} },
      ]),
    ]
  }

  it('answer a GET document up to MAX_DOCUMENT_BYTES, and refuse a larger one with its code (not an empty 431 for the URL)', async () => {
    const { url } = await app.start()
    const get = async (bytes: number) => {
      const query = `{ __typename } #${'x'.repeat(bytes - 16)}`
      const response = await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/graphql-response+json' } })
      return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } }
    }
    const max = parseConfig({}).requestLimits.maxDocumentBytes
    expect(await get(max)).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } })
    const over = await get(max + 1)
    expect(over.status).toBe(413)
    expect(over.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST')
  })

  it("let the web client's documents, GraphiQL's introspection and GraphiQL's default document through", async () => {
    const config = parseConfig({})
    for (const [name, query, variables] of await documents()) {
      const enveloped = app.yoga.getEnveloped({ params: { query, variables } })
      const document = enveloped.parse(query)
      expect(enveloped.validate(enveloped.schema, document), name).toEqual([])
      expect(costError({ schema: enveloped.schema, document, variableValues: variables, operationName: undefined, contextValue: {} }, config.requestLimits.maxQueryCost), name).toBeUndefined()
    }
  })
})
