/**
 * What a client can make the server log. Every error a client causes, over
 * HTTP and graphql-ws, is answered with a code and logged at most at debug
 * level, without a stack; nothing goes to the console. Only an error of ours is
 * an error line. Real servers (production and development) with a logger
 * writing into an array.
 */
import { connect } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { captureLogs, ERROR_LEVEL, type LogLine } from '../helpers/log-capture.ts'
import { openRawSocket } from '../helpers/raw-ws.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const DEEP = `{ ${'... on Query { '.repeat(3000)}__typename${' }'.repeat(3000)} }`
const SUBSCRIPTION = 'subscription { suggestions(input: { maxSuggestions: 5, live: true }) { __typename } }'

let db: TestDatabase
let alice: FixtureUser
beforeAll(async () => {
  db = await openTestDatabase('pglite')
  alice = await createUserWithContacts(db.prisma, 'alice@example.com', 10)
})
afterAll(() => db?.destroy())
afterEach(() => vi.restoreAllMocks())

/** Each case does one thing a client may do; it resolves once the server has answered it (or seen it end). */
type ClientCase = [name: string, run: (server: TestServer) => Promise<unknown>]

const post = (server: TestServer, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((response) => response.arrayBuffer())
const json = (value: unknown) => JSON.stringify(value)

const HTTP_CASES: ClientCase[] = [
  ['malformed JSON body', (server) => post(server, '{"query":')],
  ['a body that is not an object', (server) => post(server, 'null')],
  ['a syntax error', (server) => post(server, json({ query: '{' }))],
  ['a document nested past the parser', (server) => post(server, json({ query: DEEP }))],
  ['an unknown field', (server) => post(server, json({ query: '{ mee }' }))],
  ['a variable of the wrong type', (server) => post(server, json({ query: 'query($n: Int) { contacts(first: $n) { edges { cursor } } }', variables: { n: 'x' } }), { authorization: `Bearer ${alice.token}` })],
  ['variables that are not an object', (server) => post(server, json({ query: '{ __typename }', variables: 3 }))],
  ['an unknown operation name', (server) => post(server, json({ query: 'query A { __typename }', operationName: 'B' }))],
  ['no token', (server) => post(server, json({ query: '{ me { id } }' }))],
  ['a forged token', (server) => post(server, json({ query: '{ me { id } }' }), { authorization: 'Bearer prm_forged' })],
  ['an undecodable id', (server) => post(server, json({ query: '{ node(id: "%%%") { id } }' }), { authorization: `Bearer ${alice.token}` })],
  ['a form-encoded POST', (server) => post(server, 'query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' })],
  ['a mutation over GET', (server) => fetch(`${server.url}?query=${encodeURIComponent('mutation { __typename }')}`).then((r) => r.arrayBuffer())],
  ['a forged request id', (server) => post(server, json({ query: '{ __typename }' }), { 'x-request-id': `"}{"level":50,"msg":"forged${'y'.repeat(500)}` })],
  ['a body cut short', (server) =>
    new Promise((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":')
        socket.end()
      })
      socket.on('close', resolve)
      socket.resume()
    })],
  ['an SSE stream dropped after its first event', async (server) => {
    const controller = new AbortController()
    const response = await fetch(server.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
      body: json({ query: SUBSCRIPTION }),
    })
    await response.body!.getReader().read()
    controller.abort()
  }],
]

/** graphql-ws: sends the frames on a signed-in socket (or none), and waits for the answer to the last one or the close. */
const onSocket = (frames: (string | Buffer | object)[] | (() => (string | Buffer | object)[]), { signIn = true, binary = false } = {}) =>
  async (server: TestServer) => {
    const socket = await openRawSocket(server.url, signIn ? alice.token : undefined)
    const before = socket.messages.length
    for (const frame of typeof frames === 'function' ? frames() : frames) {
      if (binary) socket.socket.send(frame as Buffer, { binary: false })
      else socket.send(frame)
    }
    await Promise.race([socket.closed, socket.next((message) => socket.messages.indexOf(message) >= before && message.type !== 'next')])
    socket.socket.terminate()
  }

const subscribe = (query: string, variables?: Record<string, unknown>) => ({ id: '1', type: 'subscribe', payload: { query, variables } })

const WS_CASES: ClientCase[] = [
  ['graphql-ws: a frame that is not JSON', onSocket(['{oops'])],
  ['graphql-ws: an unknown message type', onSocket([{ type: 'what' }])],
  ['graphql-ws: subscribe before connection_init', onSocket([subscribe('{ __typename }')], { signIn: false })],
  ['graphql-ws: a second connection_init', onSocket(() => [{ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } }])],
  ['graphql-ws: connection_init with a forged token', onSocket([{ type: 'connection_init', payload: { authorization: 'Bearer prm_forged' } }], { signIn: false })],
  ['graphql-ws: a syntax error', onSocket([subscribe('{')])],
  ['graphql-ws: a document nested past the parser', onSocket([subscribe(DEEP)])],
  ['graphql-ws: an unknown field', onSocket([subscribe('{ mee }')])],
  ['graphql-ws: a variable of the wrong type', onSocket([subscribe('query($n: Int) { contacts(first: $n) { edges { cursor } } }', { n: 'x' })])],
  ['graphql-ws: a duplicate operation id', onSocket([subscribe(SUBSCRIPTION), subscribe(SUBSCRIPTION)])],
  ['graphql-ws: a text frame that is not UTF-8', onSocket([Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], { binary: true })],
]

const hasStack = (line: LogLine) => /\n\s+at /.test(JSON.stringify(line))

describe.each(['production', 'development'])('client-caused errors in %s', (nodeEnv) => {
  let server: TestServer
  let lines: LogLine[]
  beforeAll(async () => {
    const captured = captureLogs('debug')
    lines = captured.lines
    server = await startTestServer(db, { logger: captured.logger, env: { NODE_ENV: nodeEnv } })
  })
  afterAll(() => server?.close())

  it.each([...HTTP_CASES, ...WS_CASES])('%s: no error-level line, no stack, nothing on the console', async (_name, run) => {
    const consoleLines: unknown[] = []
    for (const method of ['error', 'warn'] as const) vi.spyOn(console, method).mockImplementation((...args) => void consoleLines.push(args))
    const from = lines.length
    await run(server)
    // A request the server is still handling must have answered: ask it something and wait for the answer.
    expect((await server.query('{ __typename }')).data).toEqual({ __typename: 'Query' })
    const logged = lines.slice(from)
    expect(logged.filter((line) => line.level >= ERROR_LEVEL)).toEqual([])
    expect(logged.filter(hasStack)).toEqual([])
    expect(consoleLines).toEqual([])
  })

  it('still logs an error of ours at error level, once, and masks it for the client', async () => {
    const from = lines.length
    // A database that went away while the token is looked up is not the client's doing.
    vi.spyOn(db.prisma.authToken, 'findUnique').mockRejectedValueOnce(new Error('the database went away'))
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: json({ query: '{ __typename }' }),
    })
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] }
    expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })
    expect(lines.slice(from).filter((line) => line.level >= ERROR_LEVEL).map((line) => line.err?.message)).toEqual(['the database went away'])
  })
})
