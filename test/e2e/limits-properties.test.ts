/**
 * Property tests (fast-check, seeded): whatever a client sends, the server
 * answers with a coded error or data, never a 5xx, an INTERNAL_SERVER_ERROR,
 * a crash, an error-level log or an unhandled rejection. Random documents over
 * HTTP GET, HTTP POST and graphql-ws; random graphql-ws frames. Before the
 * limits, deep documents gave INTERNAL_SERVER_ERROR over HTTP and closed
 * graphql-ws sockets with 4500.
 */
import fc from 'fast-check'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildApp, type App } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { RawGraphQLWs } from '../helpers/raw-ws.ts'
import { runOperation, type Transport } from '../helpers/transports.ts'

const TOKENS = ['{', '}', '(', ')', '[', ']', ':', '=', '!', '$v', '...', 'on', 'Query', 'query', 'mutation', 'subscription', 'fragment', 'F', '__typename', '__schema', 'types', 'fields', 'name', 'a:', 'me', 'id', 'email', 'contacts', 'first:', '1000', 'edges', 'node', '@include(if: true)', '@skip(if: $v)', '"text"', '"""block"""', '1.5e3', 'null', '#comment\n', 'suggestions', 'input:', 'Int', 'String']

const nest = (levels: number, open: string, inner: string, close: string) => `${open.repeat(levels)}${inner}${close.repeat(levels)}`

/** Documents as an attacker or a confused client writes them. */
const documents: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 1500 }).map((tokens) => tokens.join(' ')),
  fc
    .record({ levels: fc.integer({ min: 1, max: 12_000 }), shape: fc.constantFrom('fragment', 'field', 'list', 'object') })
    .map(({ levels, shape }) =>
      shape === 'fragment'
        ? `{ ${nest(levels, '... on Query { ', '__typename', ' }')} }`
        : shape === 'field'
          ? `{ ${nest(levels, 'me { ', 'id', ' }')} }`
          : shape === 'list'
            ? `query($v: Int = ${nest(levels, '[', '1', ']')}) { __typename }`
            : `{ contacts(filter: ${nest(levels, '{ search: ', '"x"', ' }')}) { edges { node { id } } } }`,
    ),
  fc
    .record({ count: fc.integer({ min: 0, max: 5000 }), field: fc.constantFrom('__typename', 'me { id }', 'contacts(first: 1000) { edges { node { id name } } }') })
    .map(({ count, field }) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`),
)

/** Frames as a broken or hostile graphql-ws client sends them. */
const frames: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.record({ type: fc.string({ maxLength: 20 }), id: fc.option(fc.string({ maxLength: 20 })), payload: fc.option(fc.jsonValue({ maxDepth: 3 })) }).map((f) => JSON.stringify(f)),
  fc.constantFrom(
    { type: 'connection_init' },
    { type: 'connection_init', payload: { authorization: 'Bearer prm_not_a_token' } },
    { type: 'subscribe', id: 'dup', payload: { query: '{ __typename }' } },
    { type: 'subscribe', id: 'dup', payload: { query: 'subscription { suggestions(input: { live: true }) { __typename } }' } },
    { type: 'subscribe', id: 'x'.repeat(100_000), payload: { query: '{ __typename }' } },
    { type: 'subscribe', id: 'bad', payload: { query: 42 } },
    { type: 'subscribe', id: 'nested', payload: { query: `{ ${nest(8000, '... on Query { ', '__typename', ' }')} }` } },
    { type: 'complete', id: 'dup' },
    { type: 'complete', id: 'never' },
    { type: 'ping' },
    { type: 'pong' },
    { type: 'next', id: 'dup', payload: {} },
  ).map((f) => JSON.stringify(f)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.from(bytes)),
)

/** `text` parsed as JSON, or `text` itself when it is not JSON. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** Close codes a graphql-ws server may answer a client's mistakes with; 4500, 1011 and 1006 mean the server failed. */
const CLIENT_FAULT_CLOSE_CODES = [1000, 1003, 1007, 1009, 4400, 4401, 4403, 4406, 4409, 4429]

describe('random input never breaks the server', () => {
  let db: TestDatabase
  let app: App
  let url: string
  let alice: FixtureUser
  const logs: Record<string, unknown>[] = []
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => void rejections.push(reason)
  // graphql-ws prints socket errors with console.error (stacks included).
  const consoleErrors = vi.spyOn(globalThis.console, 'error').mockImplementation(() => {})

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection)
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 20)
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
    app = buildApp({ config: { ...parseConfig({ NODE_ENV: 'test' }), port: 0, host: '127.0.0.1' }, db, logger })
    ;({ url } = await app.start())
  }, 60_000)
  afterAll(async () => {
    await app?.stop()
    await db?.destroy()
    process.off('unhandledRejection', onRejection)
    consoleErrors.mockRestore()
  })

  const expectHealthy = async () => {
    expect((await fetch(url.replace(/graphql$/, 'health'))).status).toBe(200)
    expect(rejections).toEqual([])
    expect(consoleErrors.mock.calls).toEqual([])
    expect(logs.filter((entry) => Number(entry.level) >= 50)).toEqual([])
  }

  it.each(['GET', 'POST', 'WS'] as Transport[])('random documents over %s get data or a coded client error', async (transport) => {
    await fc.assert(
      fc.asyncProperty(documents, async (query) => {
        const result = await runOperation(transport, url, { query, token: alice.token })
        if (result.status !== undefined) expect(result.status).toBeLessThan(500)
        expect(result.closeCode).toBeUndefined()
        for (const error of result.errors) {
          expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR')
          if (result.status !== 431) expect(error.extensions?.code, error.message).toBeTypeOf('string')
        }
      }),
      { seed: 42, numRuns: 25 },
    )
    await expectHealthy()
  }, 120_000)

  it('random request parameters over GET and POST (variables, extensions, operationName, documentId: any text or JSON) get a coded client error or data', async () => {
    const param = fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value))), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(fc.boolean(), param, param, param, param, async (get, variables, extensions, operationName, documentId) => {
        const params = Object.fromEntries(
          Object.entries({ query: '{ me { id } }', variables, extensions, operationName, documentId }).filter((entry): entry is [string, string] => entry[1] !== undefined),
        )
        const headers = { authorization: `Bearer ${alice.token}`, accept: 'application/graphql-response+json' }
        const response = get
          ? await fetch(`${url}?${new URLSearchParams(params)}`, { headers })
          : await fetch(url, {
              method: 'POST',
              headers: { ...headers, 'content-type': 'application/json' },
              // POST carries JSON values: the text when it parses, else the text as a string.
              body: JSON.stringify(Object.fromEntries(Object.entries(params).map(([name, text]) => [name, name === 'query' ? text : parsedOrText(text)]))),
            })
        expect(response.status).toBeLessThan(500)
        const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: unknown } }[] }
        for (const error of body.errors ?? []) {
          expect(error.extensions?.code, error.message).toBeTypeOf('string')
          expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR')
        }
      }),
      { seed: 7, numRuns: 60 },
    )
    // The case found by the hostile review, every time: a GET whose variables or extensions are not JSON.
    for (const name of ['variables', 'extensions']) {
      const response = await fetch(`${url}?${new URLSearchParams({ query: '{ __typename }', [name]: '{bad' })}`, { headers: { accept: 'application/graphql-response+json' } })
      expect([name, response.status, ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code]).toEqual([name, 400, 'BAD_REQUEST'])
    }
    await expectHealthy()
  }, 120_000)

  it('random graphql-ws frames, in any order, get answers or a protocol close code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frames, { minLength: 1, maxLength: 8 }), async (signedIn, sequence) => {
        const client = new RawGraphQLWs(url)
        try {
          await client.opened()
          if (signedIn) await client.init(alice.token)
          for (const frame of sequence) if (client.open) client.send(frame)
          // A ping is answered by a pong on a live socket; otherwise the socket closed: either way the server spoke.
          if (client.open) client.send({ type: 'ping' })
          const pong = await client.next((message) => message.type === 'pong')
          if (!pong) expect(CLIENT_FAULT_CLOSE_CODES).toContain((await client.closed).code)
        } finally {
          client.close()
        }
      }),
      { seed: 42, numRuns: 60 },
    )
    await expectHealthy()
  }, 120_000)
})
