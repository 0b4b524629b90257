/**
 * The partner examples (docs/partners.md, "Examples") run as their users run them: each command is read
 * from the page's code blocks (so a changed command, a renamed variable or a broken script fails here),
 * its credentials and URL replaced by a real server's, and run as a child process whose output is checked.
 * (a) streams the seeded user's suggestions over graphql-ws with an API key, in the server's ranked order,
 * stays live (a change prints the new ranking), stops on SIGINT and after MAX_EVENTS; (b) reads contacts
 * with an OAuth access token and, given a refused one, refreshes with the refresh token and the client
 * credentials, saves the rotated pair and retries; (c) receives an endpoint's webhooks, verified with its
 * secret, handles a redelivered `webhook-id` once and refuses a forged signature (the receiver code the page
 * quotes is the example file's, line by line).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Clock } from '../../src/clock.ts'
import { wsResults } from '../helpers/clients.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, type FixtureUser } from '../helpers/fixtures.ts'
import { authorizationUrl, consentInNode, exchangeCode, pkcePair, refresh, registerTestApp } from '../helpers/oauth-partner.ts'
import { ROOT } from '../helpers/server-process.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** A command of the page: its `NAME=value` prefix and its words (`node`, the script, arguments). */
interface DocumentedCommand {
  env: Record<string, string>
  argv: string[]
}

/** Shell words of one line (quotes '...' and "..." kept together, no expansion: the page's commands need none). */
function shellWords(line: string): string[] {
  const words: string[] = []
  for (const match of line.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)) words.push(match[0].replace(/'([^']*)'|"([^"]*)"/g, '$1$2'))
  return words
}

/** The commands of docs/partners.md's `sh` code blocks that run `script` (continuation lines joined). */
async function documentedCommands(script: string): Promise<DocumentedCommand[]> {
  const page = await readFile(path.join(ROOT, 'docs/partners.md'), 'utf8')
  const commands: DocumentedCommand[] = []
  for (const block of page.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of block[1]!.replace(/\\\n\s*/g, ' ').split('\n')) {
      if (!line.includes(`examples/partners/${script}`)) continue
      const words = shellWords(line)
      const env: Record<string, string> = {}
      while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
        const [name, ...value] = words.shift()!.split('=')
        env[name!] = value.join('=')
      }
      commands.push({ env, argv: words })
    }
  }
  return commands
}

/** A running example: its output so far, and its end. */
interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/**
 * Runs `command` from the repository root with `values` in place of the documented values of those
 * variables (each must be documented: the page shows how to pass it). `node` is this test's node.
 */
function run(command: DocumentedCommand, values: Record<string, string>): Run {
  for (const name of Object.keys(values)) expect(Object.keys(command.env), `the documented command sets ${name}`).toContain(name)
  const [program, ...args] = command.argv
  expect(program).toBe('node')
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...command.env, ...values }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** The names of the ranked lines printed (`  3. Ada 04  priority 7.12  ...`), in order, and their priorities. */
function rankedLines(output: string): { rank: number; name: string; priority: number }[] {
  return [...output.matchAll(/^ +(\d+)\. (.+?) {2}priority (\d+\.\d{2}) /gm)].map((match) => ({ rank: Number(match[1]), name: match[2]!, priority: Number(match[3]) }))
}

/** The events the receiver printed (`<type> <webhook-id> <timestamp> <data as JSON>`), in order. */
function receivedEvents(output: string): { type: string; webhookId: string; timestamp: string; data: unknown }[] {
  return [...output.matchAll(/^([a-z]+\.[a-z]+) (\S+) (\S+) (\{.*\})$/gm)].map((match) => ({ type: match[1]!, webhookId: match[2]!, timestamp: match[3]!, data: JSON.parse(match[4]!) }))
}

const WITHIN = { timeout: 30_000, interval: 50 }

describe('the partner examples of docs/partners.md', () => {
  let db: TestDatabase
  let server: TestServer
  let user: FixtureUser
  let origin: string
  const runs: Run[] = []
  /** The server's clock stands still, so the example's ranking and the test's own are of the same instant. */
  const now = new Date()
  const clock: Clock = { now: () => new Date(now) }

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    // Example (c)'s receiver listens on loopback.
    server = await startTestServer(db, { clock, env: { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' } })
    origin = new URL(server.url).origin
    user = await createUserWithContacts(db.prisma, 'partner-examples@example.com', 40)
  })
  afterAll(async () => {
    for (const { child } of runs) if (child.exitCode === null) child.kill('SIGKILL')
    await server?.close()
    await db?.destroy()
  })

  const start = (command: DocumentedCommand, values: Record<string, string>) => {
    const started = run(command, values)
    runs.push(started)
    return started
  }

  /** The ranking the server gives the user's own session (the same input as the example's), names in order. */
  async function rankingOfSession(maxSuggestions: number): Promise<{ name: string; priority: number }[]> {
    const results = await wsResults(
      server.url,
      { query: `subscription { suggestions(input: { maxSuggestions: ${maxSuggestions}, live: false }) { __typename ... on SuggestionsComplete { suggestions { priority contact { name } } } } }` },
      user.token,
    )
    const complete = results.map((result) => result.data?.suggestions).find((event) => event?.__typename === 'SuggestionsComplete')
    return complete.suggestions.map((suggestion: { priority: number; contact: { name: string } }) => ({ name: suggestion.contact.name, priority: suggestion.priority }))
  }

  it('(a) streams the ranked suggestions over graphql-ws with an API key, stays live, stops on SIGINT and after MAX_EVENTS', async () => {
    const commands = await documentedCommands('stream-suggestions.mjs')
    expect(commands.length).toBeGreaterThanOrEqual(2)
    const created = await server.query<{ createApiKey: { key: string } }>('mutation { createApiKey(input: { name: "example", scopes: ["suggestions:subscribe", "contacts:write"] }) { key } }', {}, user.token)
    const key = created.data!.createApiKey.key
    const values = { GRAPHQL_URL: server.url, API_KEY: key }
    const expected = await rankingOfSession(10)
    expect(expected).toHaveLength(10)

    // The first command: until a signal.
    const live = start(commands.find((command) => command.env.MAX_EVENTS === undefined)!, values)
    await vi.waitFor(() => expect(live.stdout()).toMatch(/^complete: 10 suggestion\(s\)/m), WITHIN)
    const ranked = rankedLines(live.stdout())
    expect(ranked.map((line) => line.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(ranked.map((line) => line.name)).toEqual(expected.map((suggestion) => suggestion.name))
    expect(ranked.map((line) => line.priority)).toEqual(expected.map((suggestion) => Number(suggestion.priority.toFixed(2))))
    // Live: a change of the user's (the key may write contacts) prints the new ranking.
    const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id, archived: false, name: ranked[0]!.name } })
    const logged = await server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: encodeGlobalID('Contact', contact.id) }, key)
    expect(logged.errors).toBeUndefined()
    await vi.waitFor(() => expect(live.stdout()).toMatch(/^updated: 10 suggestion\(s\)/m), WITHIN)
    live.child.kill('SIGINT')
    expect(await live.exited).toBe(0)
    expect(live.stdout()).toMatch(/^stopped \(SIGINT\)$/m)
    expect(live.stderr()).toBe('')

    // The second: MAX_EVENTS, then it exits by itself.
    const bounded = commands.find((command) => command.env.MAX_EVENTS !== undefined)!
    const once = start(bounded, values)
    expect(await once.exited).toBe(0)
    expect(once.stdout()).toMatch(/^batch: \d+ suggestion\(s\)/m)
    const printed = rankedLines(once.stdout())
    expect(printed.length).toBeGreaterThan(0)
    expect(printed.map((line) => line.rank)).toEqual(printed.map((_, index) => index + 1))

    // A wrong key: the socket is refused (4403), exit code 1 with the reason.
    const refused = start(commands[0]!, { ...values, API_KEY: `${key.slice(0, -1)}x` })
    expect(await refused.exited).toBe(1)
    expect(refused.stderr()).toMatch(/^error: .+ \(close code 4403\)$/m)
  })

  it('(b) reads contacts with an OAuth access token; a refused token is refreshed with the refresh token and client credentials, then retried', async () => {
    const [command, ...others] = await documentedCommands('contacts-with-oauth.mjs')
    expect(command).toBeDefined()
    expect(others).toEqual([])
    const app = await registerTestApp(db.prisma, ['contacts:read', 'suggestions:read'], 'Example CRM')
    const { verifier, challenge } = pkcePair()
    const { redirect } = await consentInNode(authorizationUrl(origin, app, { scope: 'contacts:read suggestions:read', state: 'example', challenge }), user.token)
    const tokens = await exchangeCode(origin, app, redirect.searchParams.get('code')!, verifier)
    expect(tokens.status).toBe(200)
    const directory = await mkdtemp(path.join(tmpdir(), 'partner-example-'))
    try {
      const tokensFile = path.join(directory, 'tokens.json')
      const values = { GRAPHQL_URL: server.url, CLIENT_ID: app.clientId, CLIENT_SECRET: app.clientSecret, REFRESH_TOKEN: tokens.body.refresh_token!, TOKENS_FILE: tokensFile }
      const expected = await server.query<{ contacts: { totalCount: number; edges: { node: { name: string } }[] } }>(
        `{ contacts(first: ${Number(command!.env.CONTACTS ?? 10)}, orderBy: { field: NEXT_DUE_AT }) { totalCount edges { node { name } } } }`,
        {},
        user.token,
      )
      const names = expected.data!.contacts.edges.map((edge) => edge.node.name)
      const contactLines = (output: string) => [...output.matchAll(/^ {2}(.+?) {2}next due /gm)].map((match) => match[1])

      // A valid token: no refresh.
      const plain = start(command!, { ...values, ACCESS_TOKEN: tokens.body.access_token!, TOKENS_FILE: path.join(directory, 'unused.json') })
      expect(await plain.exited, plain.stderr()).toBe(0)
      expect(plain.stdout()).not.toMatch(/refresh/)
      expect(plain.stdout()).toMatch(new RegExp(`^signed in for ${user.email}$`, 'm'))
      expect(plain.stdout()).toMatch(new RegExp(`^contacts due first \\(${names.length} of ${expected.data!.contacts.totalCount}\\):$`, 'm'))
      expect(contactLines(plain.stdout())).toEqual(names)
      expect(plain.stdout()).toMatch(/^budget left: "hourly";r=\d+;t=\d+/m)

      // A refused token (expired or revoked looks the same): refresh, save, retry.
      const refreshed = start(command!, { ...values, ACCESS_TOKEN: 'an-expired-or-revoked-access-token' })
      expect(await refreshed.exited, refreshed.stderr()).toBe(0)
      expect(refreshed.stdout()).toMatch(/^access token refused: refreshing at http:\/\/127\.0\.0\.1:\d+\/oauth\/token$/m)
      expect(refreshed.stdout()).toMatch(/^refreshed: new access token valid 600 s; refresh token rotated/m)
      expect(contactLines(refreshed.stdout())).toEqual(names)
      const saved = JSON.parse(await readFile(tokensFile, 'utf8')) as { access_token: string; refresh_token: string }
      expect(saved.refresh_token).not.toBe(tokens.body.refresh_token)
      // The saved pair is the live one: its access token works, its refresh token rotates again.
      expect((await server.query<{ me: { email: string } }>('{ me { email } }', {}, saved.access_token)).data?.me.email).toBe(user.email)
      expect((await refresh(origin, app, saved.refresh_token)).status).toBe(200)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('(c) receives webhooks: each verified with the endpoint secret and printed once, a redelivery skipped, a forged one refused', async () => {
    const [command, ...others] = await documentedCommands('webhook-receiver.mjs')
    expect(command).toBeDefined()
    expect(others).toEqual([])
    const created = await server.query<{ createApiKey: { key: string } }>('mutation { createApiKey(input: { name: "webhooks", scopes: ["webhooks:manage", "contacts:write"] }) { key } }', {}, user.token)
    const key = created.data!.createApiKey.key
    // The endpoint first (its secret starts the receiver), on a URL nothing is sent to; pointed at the receiver once it listens.
    const made = await server.query<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }',
      { input: { url: 'http://127.0.0.1:9/webhooks', eventTypes: ['contact.created'] } },
      key,
    )
    expect(made.errors).toBeUndefined()
    const { secret, endpoint } = made.data!.createWebhookEndpoint
    const receiver = start(command!, { WEBHOOK_SECRET: secret, PORT: '0' })
    const listening = /^listening on (http:\/\/127\.0\.0\.1:\d+\/webhooks)$/m
    await vi.waitFor(() => expect(receiver.stdout()).toMatch(listening), WITHIN)
    const url = listening.exec(receiver.stdout())![1]!
    expect((await server.query('mutation($id: ID!, $url: String!) { updateWebhookEndpoint(id: $id, input: { url: $url }) { url } }', { id: endpoint.id, url }, key)).errors).toBeUndefined()

    // A test event, then a contact created with the key: each printed with its data.
    const test = await server.query<{ sendTestWebhook: { id: string; webhookId: string } }>('mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id webhookId } }', { id: endpoint.id }, key)
    expect(test.errors).toBeUndefined()
    const delivery = test.data!.sendTestWebhook
    await vi.waitFor(() => expect(receivedEvents(receiver.stdout())).toEqual([{ type: 'webhook.test', webhookId: delivery.webhookId, timestamp: now.toISOString(), data: { endpointId: endpoint.id } }]), WITHIN)
    const contact = await server.query<{ createContact: { id: string } }>('mutation { createContact(input: { name: "Hooked" }) { id } }', {}, key)
    expect(contact.errors).toBeUndefined()
    await vi.waitFor(() => expect(receivedEvents(receiver.stdout())[1]).toMatchObject({ type: 'contact.created', data: { contactId: contact.data!.createContact.id } }), WITHIN)

    // The test event sent again once delivered: the same webhook-id, so the receiver skips it.
    const state = `query($id: ID!) { node(id: $id) { ... on WebhookDelivery { state } } }`
    await vi.waitFor(async () => expect((await server.query<{ node: { state: string } }>(state, { id: delivery.id }, key)).data?.node.state).toBe('SUCCEEDED'), WITHIN)
    expect((await server.query('mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { state } }', { id: delivery.id }, key)).errors).toBeUndefined()
    await vi.waitFor(() => expect(receiver.stdout()).toMatch(new RegExp(`^duplicate ${delivery.webhookId}: already handled$`, 'm')), WITHIN)

    // Signed with another secret: 400, and nothing printed as an event.
    const body = JSON.stringify({ type: 'contact.created', timestamp: new Date().toISOString(), data: { contactId: 'forged' } })
    const forged = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': new Webhook(`whsec_${randomBytes(32).toString('base64')}`).sign('msg_forged', new Date(), body) },
      body,
    })
    expect(forged.status).toBe(400)
    // The receiver's stderr comes through a pipe, possibly after its answer: waited for.
    await vi.waitFor(() => expect(receiver.stderr()).toMatch(/^refused: No matching signature found$/m), WITHIN)
    expect(receivedEvents(receiver.stdout()).map((event) => event.type)).toEqual(['webhook.test', 'contact.created'])

    receiver.child.kill('SIGINT')
    expect(await receiver.exited).toBe(0)
    expect(receiver.stdout()).toMatch(/^stopped \(SIGINT\)$/m)
  })

  it("(c) the receiver code the page quotes is the example file's, line by line and in order", async () => {
    const page = await readFile(path.join(ROOT, 'docs/partners.md'), 'utf8')
    const blocks = [...page.matchAll(/^```js\n([\s\S]*?)^```/gm)].map((match) => match[1]!)
    expect(blocks).toHaveLength(1)
    const file = (await readFile(path.join(ROOT, 'examples/partners/webhook-receiver.mjs'), 'utf8')).split('\n').map((line) => line.trim())
    let from = 0
    for (const line of blocks[0]!.split('\n').map((text) => text.trim()).filter((text) => text !== '')) {
      const at = file.indexOf(line, from)
      expect(at, `examples/partners/webhook-receiver.mjs has, after the lines before it: ${line}`).toBeGreaterThanOrEqual(0)
      from = at + 1
    }
  })
})
