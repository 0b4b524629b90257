/**
 * `npm run bench:load [-- --json --scenarios raw,single,over,pair,idle-live --users 100 --contacts 10000 --per-user 10]`
 *
 * The morning rush against real server processes started as users run them
 * (`node dist/server/main.js`, NODE_ENV=production; `--tsx`: `src/main.ts`
 * through tsx), PostgreSQL in a fresh schema:
 *   raw        the same users x per-user first-page class statements straight
 *              through `pg`, GENERATION_CONCURRENCY at a time: what SQL alone can do;
 *   single     one process, users x per-user graphql-ws subscriptions at once
 *              (top 50, `live: false`, one socket each), queue bound above the load;
 *   over       the same, queue bound 200: the only error allowed is RATE_LIMITED;
 *   pair       two processes behind Redis, the clients split between them;
 *   idle-live  live-users x per-user idle live subscriptions of other users
 *              (live-contacts each), opened in waves; then one user's write must
 *              reach all of that user's tabs.
 * Per scenario: streams complete, errors by code, p50/p95/p99 to the first
 * SuggestionBatch and to SuggestionsComplete, walks per second (and its ratio
 * to `raw` of the same run), the servers' own walk count and mean walk (from
 * /metrics), idle and peak RSS. `--json`: one JSON object per scenario and line
 * on stdout (progress on stderr). Exits 1 when a scenario failed (a server
 * crashed, did not start or stop, a wave hung): the reason and the server's
 * stderr tail are on stderr. bench/README.md says what each field means.
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createClient, type Client } from 'graphql-ws'
import pg from 'pg'
import WebSocket from 'ws'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { CONTACT_CLASSES, firstPagesStatement } from '../src/contacts/keyset/class-first-pages.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'
import { startServerProcess, type ServerProcess } from '../test/helpers/server-process.ts'
import { benchFail, positiveInteger } from './args.ts'

const USAGE =
  'npm run bench:load -- [--json] [--scenarios raw,single,over,pair,idle-live] [--users 100] [--contacts 10000] [--per-user 10] [--max-old-space 256] ' +
  '[--live-users 1000] [--live-contacts 100] [--wave 100] [--live-max-old-space 384] [--tsx] [--node-args "--cpu-prof"] [--heap-snapshot DIR]'
const SCENARIOS = ['raw', 'single', 'over', 'pair', 'idle-live'] as const
type ScenarioName = (typeof SCENARIOS)[number]
function fail(message: string): never {
  benchFail(USAGE, message)
}

let values
try {
  values = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      users: { type: 'string' },
      contacts: { type: 'string' },
      'per-user': { type: 'string' },
      'max-old-space': { type: 'string' },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      'live-users': { type: 'string' },
      'live-contacts': { type: 'string' },
      wave: { type: 'string' },
      'live-max-old-space': { type: 'string' },
      /** Run the servers' TypeScript through tsx instead of the build. */
      tsx: { type: 'boolean', default: false },
      /** Extra node flags for the servers, e.g. --cpu-prof. */
      'node-args': { type: 'string', default: '' },
      /** idle-live: a heap snapshot of the server once all are open (SIGUSR2), written into this directory. */
      'heap-snapshot': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values
} catch (error) {
  fail((error as Error).message)
}
const users = positiveInteger('users', values.users, 100, fail)
const contacts = positiveInteger('contacts', values.contacts, 10_000, fail)
const perUser = positiveInteger('per-user', values['per-user'], 10, fail)
const maxOldSpace = positiveInteger('max-old-space', values['max-old-space'], 256, fail)
const liveUsers = positiveInteger('live-users', values['live-users'], 1000, fail)
const liveContacts = positiveInteger('live-contacts', values['live-contacts'], 100, fail)
const wave = positiveInteger('wave', values.wave, 100, fail)
const liveMaxOldSpace = positiveInteger('live-max-old-space', values['live-max-old-space'], 384, fail)
const compiled = !values.tsx
const heapSnapshotDir = values['heap-snapshot']
const extraNodeArgs = values['node-args'].split(' ').filter(Boolean)
const scenarios = new Set(values.scenarios.split(',').map((name) => name.trim()))
for (const name of scenarios) if (!(SCENARIOS as readonly string[]).includes(name)) fail(`unknown scenario "${name}": one of ${SCENARIOS.join(', ')}`)
const json = values.json

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The servers' admission concurrency: what the server processes will read (their environment is this process's). */
const GENERATION_CONCURRENCY = parseConfig({ GENERATION_CONCURRENCY: process.env.GENERATION_CONCURRENCY }).generationConcurrency
const METRICS_TOKEN = randomBytes(24).toString('base64url')
const MAX_SUGGESTIONS = 50
const BATCH_SIZE = 100
/** The rows per class the engine's first statement asks for: min(batchSize, maxSuggestions, 50) (generator.ts), plus one that says whether the class goes on. */
const FIRST_PAGE_LIMIT = Math.min(BATCH_SIZE, MAX_SUGGESTIONS, 50) + 1
const suggestionsQuery = (live: boolean) => `subscription { suggestions(input: { maxSuggestions: ${MAX_SUGGESTIONS}, batchSize: ${BATCH_SIZE}, slots: [], live: ${live} }) { __typename
  ... on SuggestionBatch { suggestions { id priority reason slot { start } contact { id name } } } } }`
/** Bounds on a hung server (the bench then fails instead of waiting forever). */
const LOAD_TIMEOUT_MS = 15 * 60_000
const WAVE_TIMEOUT_MS = 120_000
const WRITE_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 30_000

/** Progress and the human-readable report: stdout, or stderr under --json (stdout then holds only the JSON lines). */
const say = (text: string) => void (json ? process.stderr : process.stdout).write(text)

interface Percentiles {
  p50: number | null
  p95: number | null
  p99: number | null
}

/** A server's figures, read before it was stopped. */
interface ServerFigures {
  pid: number
  idleRssMb: number
  peakRssMb: number | null
  engineWalks: number | null
  meanWalkMs: number | null
  /** How it ended after SIGTERM (0 and null: cleanly). */
  exitCode: number | null
  signal: string | null
}

/** One JSON line of --json. README "bench:load" describes each field. */
interface ScenarioResult {
  scenario: ScenarioName
  description: string
  runner: 'compiled' | 'tsx' | 'pg'
  subscriptions: number
  completed: number
  errorsByCode: Record<string, number>
  firstBatchMs: Percentiles
  completeMs: Percentiles
  seconds: number
  walksPerSecond: number
  engineWalks: number | null
  meanWalkMs: number | null
  idleRssMb: number | null
  peakRssMb: number | null
  rawWalksPerSecond: number | null
  walksPerSecondVsRaw: number | null
  events?: number
  throttled?: number
  servers?: ServerFigures[]
  failures: string[]
  [more: string]: unknown
}

const schema = `load_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })
const running: Server[] = []
let failed = false
// Ctrl-C: no server outlives the bench, and the schema goes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const server of running) server.process.child.kill('SIGKILL')
    void db
      .query(`DROP SCHEMA "${schema}" CASCADE`)
      .catch(() => {})
      .finally(() => process.exit(130))
  })
}
try {
  await applyMigrations(db)
  const rushUsers = [...scenarios].some((name) => name !== 'idle-live') ? await seed('bench', users, contacts) : []
  const livers = scenarios.has('idle-live') ? await seed('live', liveUsers, liveContacts) : []
  const tokens = await issueTokens(rushUsers)
  const liveTokens = await issueTokens(livers)
  say(`servers: ${compiled ? 'node dist/server/main.js' : 'node --import tsx src/main.ts'}, GENERATION_CONCURRENCY ${GENERATION_CONCURRENCY}\n\n`)

  const streams = users * perUser
  /** The same run's raw baseline, once `raw` ran. */
  let raw: ScenarioResult | undefined
  const emit = (result: ScenarioResult) => {
    if (result.scenario === 'raw') raw = result
    else if (raw) {
      result.rawWalksPerSecond = raw.walksPerSecond
      // idle-live's users are others (fewer contacts): a ratio to raw would compare different statements.
      if (result.scenario !== 'idle-live') result.walksPerSecondVsRaw = round(result.walksPerSecond / raw.walksPerSecond, 3)
    }
    if (result.failures.length > 0) {
      failed = true
      process.stderr.write(`\nbench:load: scenario ${result.scenario} FAILED:\n${result.failures.join('\n')}\n\n`)
    }
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`)
    else say(humanReport(result))
  }
  const run = async (name: ScenarioName, description: string, body: () => Promise<ScenarioResult>) => {
    if (!scenarios.has(name)) return undefined
    say(`${name}: ${description} ...\n`)
    let result: ScenarioResult
    try {
      result = await body()
      result.description = description
    } catch (error) {
      if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
      result = { ...emptyResult(name, description), failures: [error instanceof Error ? error.message : String(error)] }
    } finally {
      // Whatever went wrong, no server of this scenario lives on into the next.
      await Promise.all(running.splice(0).map((server) => kill(server)))
    }
    emit(result)
    return result
  }

  await run('raw', `${streams} first-page class statements through pg, ${GENERATION_CONCURRENCY} at a time`, () => runRaw(rushUsers))
  const single = await run('single', `1 process, ${streams} streams at once (queue bound ${streams})`, () =>
    runLoad('single', 1, { GENERATION_QUEUE_LIMIT: String(Math.max(streams, 1)) }, tokens),
  )
  await run('over', `1 process, ${streams} streams at once, deliberately over capacity (queue bound 200)`, () =>
    runLoad('over', 1, { GENERATION_QUEUE_LIMIT: '200' }, tokens),
  )
  const pair = await run('pair', `2 processes behind Redis, ${streams} streams split between them`, () =>
    runLoad('pair', 2, { GENERATION_QUEUE_LIMIT: String(streams), REDIS_URL }, tokens),
  )
  if (pair && single && !json) say(`throughput, 2 processes / 1: ${(pair.walksPerSecond / single.walksPerSecond).toFixed(2)}\n\n`)
  await run('idle-live', `${liveUsers * perUser} idle live subscriptions (${liveUsers} users x ${perUser} tabs, ${liveContacts} contacts each) in waves of ${wave}`, () =>
    runIdleLive(liveTokens),
  )
} finally {
  await Promise.all(running.splice(0).map((server) => kill(server)))
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(failed ? 1 : 0)

/** Seeds `count` users of `perUserContacts` contacts (e-mail prefix `prefix`); their ids. */
async function seed(prefix: string, count: number, perUserContacts: number): Promise<string[]> {
  const started = performance.now()
  const { userIds } = await seedBenchUsers(db, { users: count, contacts: perUserContacts, now: new Date(), emailPrefix: prefix })
  await db.query('ANALYZE "Contact"')
  say(`seeded ${count} users x ${perUserContacts.toLocaleString('en')} contacts in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  return userIds
}

// ---------------------------------------------------------------- scenarios

/** `raw`: each stream's first-page statement (the engine's SQL, a named prepared statement) through a pg pool of GENERATION_CONCURRENCY connections, that many at a time. */
async function runRaw(userIds: string[]): Promise<ScenarioResult> {
  const result = emptyResult('raw', `${userIds.length * perUser} first-page class statements through pg, ${GENERATION_CONCURRENCY} at a time`)
  result.runner = 'pg'
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: GENERATION_CONCURRENCY, options: `-c search_path=${schema}` })
  const { text } = firstPagesStatement(CONTACT_CLASSES)
  const queue = userIds.flatMap((id) => Array.from({ length: perUser }, () => id))
  const done: number[] = []
  let statementMs = 0
  let rows = 0
  let next = 0
  const started = performance.now()
  try {
    await Promise.all(
      Array.from({ length: GENERATION_CONCURRENCY }, async () => {
        while (next < queue.length) {
          const userId = queue[next++]!
          const sent = performance.now()
          try {
            const answer = await pool.query({ name: 'class-first-pages', text, values: [userId, FIRST_PAGE_LIMIT] })
            statementMs += performance.now() - sent
            rows += answer.rowCount ?? 0
            done.push(performance.now() - started)
          } catch (error) {
            count(result.errorsByCode, (error as { code?: string }).code ?? (error as Error).message)
          }
        }
      }),
    )
  } finally {
    await pool.end()
  }
  result.seconds = round((performance.now() - started) / 1000, 3)
  result.subscriptions = queue.length
  result.completed = done.length
  result.firstBatchMs = result.completeMs = percentiles(done)
  result.walksPerSecond = round(done.length / result.seconds, 1)
  result.engineWalks = done.length
  result.meanWalkMs = done.length > 0 ? round(statementMs / done.length, 2) : null
  result.concurrency = GENERATION_CONCURRENCY
  result.rowsPerStatement = done.length > 0 ? round(rows / done.length, 1) : null
  return result
}

/** `single`, `over`, `pair`: every stream at once (`perUser` per user, one socket each) spread over `count` fresh servers. */
async function runLoad(name: ScenarioName, count: number, env: Record<string, string>, tokens: string[]): Promise<ScenarioResult> {
  const result = emptyResult(name, '')
  const servers = await startServers(count, env, maxOldSpace)
  const tally = newTally()
  const started = performance.now()
  const streams = tokens
    .flatMap((token) => Array.from({ length: perUser }, () => token))
    .map((token, index) => openStream(servers[index % servers.length]!.process.url, token, false, tally))
  const ended = await within(
    LOAD_TIMEOUT_MS,
    Promise.all(streams.map((stream) => stream.ended)),
  )
  result.seconds = round((performance.now() - started) / 1000, 3)
  if (!ended) result.failures.push(`${streams.filter((stream) => !stream.isEnded).length} streams had not ended after ${LOAD_TIMEOUT_MS / 1000} s`)
  await Promise.all(streams.map((stream) => stream.client.dispose()))
  Object.assign(result, streamFigures(streams, tally, result.seconds))
  Object.assign(result, await stopServers(servers, result.failures))
  return result
}

/**
 * `idle-live`: `perUser` live subscriptions of each live user, one socket each, opened
 * `wave` at a time (the next wave once each of the last got its SuggestionsComplete or
 * failed); then one user logs an interaction over HTTP and all of that user's tabs must
 * get SuggestionsUpdated. Also what the client side (this process) costs.
 */
async function runIdleLive(tokens: string[]): Promise<ScenarioResult> {
  const result = emptyResult('idle-live', '')
  const subscriptions = tokens.length * perUser
  const clientFdLimit = openFileLimit('self')
  if (clientFdLimit < subscriptions + 100) {
    throw new Error(`${subscriptions} sockets need more open files than this process may have (${clientFdLimit}): raise \`ulimit -n\``)
  }
  const snapshotArgs = heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnapshotDir}`] : []
  const [server] = await startServers(1, { GENERATION_QUEUE_LIMIT: String(Math.max(wave, 200)) }, liveMaxOldSpace, snapshotArgs)
  const serverFdLimit = openFileLimit(server!.process.child.pid!)
  if (serverFdLimit < subscriptions + 100) throw new Error(`the server may open ${serverFdLimit} files, fewer than ${subscriptions} sockets need: raise \`ulimit -n\``)
  const url = server!.process.url
  const clientBefore = clientUsage()
  const tally = newTally()
  const streams: Stream[] = []
  const waveMs: number[] = []
  const started = performance.now()
  for (let first = 0; first < subscriptions && !server!.crashed; first += wave) {
    const waveStarted = performance.now()
    const opened = Array.from({ length: Math.min(wave, subscriptions - first) }, (_, index) => openStream(url, tokens[Math.floor((first + index) / perUser)]!, true, tally))
    streams.push(...opened)
    if (!(await within(WAVE_TIMEOUT_MS, Promise.all(opened.map((stream) => stream.settled))))) {
      const waiting = opened.filter((stream) => stream.completeMs === undefined && !stream.isEnded).length
      result.failures.push(`wave ${first / wave + 1}: ${waiting} of ${opened.length} subscriptions got no SuggestionsComplete within ${WAVE_TIMEOUT_MS / 1000} s`)
      break
    }
    waveMs.push(performance.now() - waveStarted)
    // Streams that ended (an error, a close, or completed by the server) before their SuggestionsComplete: with why.
    const failed = opened.filter((stream) => stream.completeMs === undefined)
    if (failed.length > 0) {
      const reasons: Record<string, number> = {}
      for (const stream of failed) count(reasons, stream.endedBy ?? 'still open, no SuggestionsComplete')
      result.failures.push(`wave ${first / wave + 1}: ${failed.length} of ${opened.length} subscriptions ended without SuggestionsComplete: ${JSON.stringify(reasons)}`)
    }
    // A wave of which no stream completed: the server is gone (its exit is reported below) or refuses everything.
    if (failed.length === opened.length) break
  }
  const openSeconds = (performance.now() - started) / 1000
  const clientOpen = clientUsage()
  const rssOpenMb = orNull(procStatusMb(server!.process.child.pid!, 'VmRSS'))
  const heapOpenMb = server!.crashed ? null : await heapUsedMb(server!).catch(() => null)
  if (heapSnapshotDir && !server!.crashed) {
    // The server writes the snapshot synchronously on the signal: it answers /metrics again once it is written.
    process.kill(server!.process.child.pid!, 'SIGUSR2')
    await readMetrics(server!).catch((error: Error) => void result.failures.push(`after the heap snapshot: ${error.message}`))
    say(`heap snapshot of the server (pid ${server!.process.child.pid}) written in ${heapSnapshotDir}\n`)
  }
  const liveAfterOpen = streams.filter(isLive).length

  // One user's write: every tab of that user must see it, no other user's tab.
  const writer = Math.floor(tokens.length / 2)
  const tabs = streams.slice(writer * perUser, (writer + 1) * perUser)
  const write = tabs.length === perUser && tabs.every(isLive) ? await writeAndWait(url, tokens[writer]!, tabs, result.failures) : undefined
  const liveAtEnd = streams.filter(isLive).length
  const gauges = server!.crashed ? undefined : await readMetrics(server!).then(
    (text) => ({ active: metric(text, 'suggestions_subscriptions_active'), waiting: metric(text, 'suggestions_subscriptions_waiting') }),
    (error: Error) => void result.failures.push(`reading /metrics: ${error.message}`),
  )
  await Promise.all(streams.map((stream) => stream.client.dispose()))
  Object.assign(result, streamFigures(streams, tally, openSeconds))
  result.subscriptions = subscriptions
  Object.assign(result, await stopServers([server!], result.failures))
  const perSubscriptionKb = (mb: number, baseMb: number) => (liveAfterOpen > 0 ? round(((mb - baseMb) * 1024) / liveAfterOpen, 1) : null)
  return Object.assign(result, {
    users: tokens.length,
    contactsPerUser: liveContacts,
    wave,
    waves: waveMs.length,
    waveMs: { ...percentiles(waveMs), max: waveMs.length > 0 ? round(Math.max(...waveMs), 1) : null },
    openAllSeconds: round(openSeconds, 2),
    rssMb: rssOpenMb === null ? null : round(rssOpenMb, 1),
    rssPerSubscriptionKb: rssOpenMb === null ? null : perSubscriptionKb(rssOpenMb, result.idleRssMb ?? 0),
    heapIdleMb: round(server!.idleHeapMb, 1),
    heapMb: heapOpenMb === null ? null : round(heapOpenMb, 1),
    heapPerSubscriptionKb: heapOpenMb === null ? null : perSubscriptionKb(heapOpenMb, server!.idleHeapMb),
    liveAfterOpen,
    liveAtEnd,
    serverActive: gauges?.active ?? null,
    serverWaiting: gauges?.waiting ?? null,
    write: write ?? null,
    client: {
      rssMb: round(clientOpen.rssMb, 1),
      heapUsedMb: round(clientOpen.heapUsedMb, 1),
      externalMb: round(clientOpen.externalMb, 1),
      perSubscriptionKb: perSubscriptionKb(clientOpen.heapUsedMb + clientOpen.externalMb, clientBefore.heapUsedMb + clientBefore.externalMb),
      openFiles: clientOpen.openFiles,
      openFileLimit: clientFdLimit,
      serverOpenFileLimit: serverFdLimit,
    },
  })
}

/** Logs an interaction of the writer's top contact over HTTP; when each of `tabs` got its SuggestionsUpdated. */
async function writeAndWait(url: string, token: string, tabs: Stream[], failures: string[]) {
  const contactId = tabs.find((tab) => tab.contactId)?.contactId
  if (!contactId) {
    failures.push('the writing user got no suggestion to log an interaction with')
    return undefined
  }
  const before = tabs.map((tab) => tab.updates.length)
  const reached = tabs.map((tab, index) => new Promise<void>((resolve) => (tab.onUpdate = () => tab.updates.length > before[index]! && resolve())))
  const wrote = performance.now()
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation Touch($id: ID!) { logInteraction(contactId: $id) { id } }', variables: { id: contactId } }),
  })
  const answer = (await response.json()) as { errors?: { message: string }[] }
  const mutationMs = performance.now() - wrote
  if (!response.ok || answer.errors) failures.push(`logInteraction answered ${response.status}: ${JSON.stringify(answer.errors ?? answer)}`)
  if (!(await within(WRITE_TIMEOUT_MS, Promise.all(reached)))) failures.push(`the write reached ${tabs.filter((tab, index) => tab.updates.length > before[index]!).length} of ${tabs.length} tabs within ${WRITE_TIMEOUT_MS / 1000} s`)
  const arrivals = tabs.flatMap((tab, index) => (tab.updates.length > before[index]! ? [tab.updates[before[index]!]! - wrote] : []))
  return {
    mutationMs: round(mutationMs, 1),
    tabs: tabs.length,
    tabsReached: arrivals.length,
    allTabsMs: arrivals.length === tabs.length ? round(Math.max(...arrivals), 1) : null,
    firstTabMs: arrivals.length > 0 ? round(Math.min(...arrivals), 1) : null,
  }
}

// ---------------------------------------------------------------- clients

interface Tally {
  events: number
  throttled: number
  errorsByCode: Record<string, number>
}

function newTally(): Tally {
  return { events: 0, throttled: 0, errorsByCode: {} }
}

/** One subscription on a socket of its own, as a browser tab opens it. */
interface Stream {
  client: Client
  opened: number
  /** From opening to the first SuggestionBatch / SuggestionsComplete, in ms. */
  firstBatchMs?: number
  completeMs?: number
  /** The first suggestion's contact (its global id). */
  contactId?: string
  /** performance.now() of each SuggestionsUpdated. */
  updates: number[]
  onUpdate?: () => void
  isEnded: boolean
  /** Why it ended: `completed` (by the server), or the error (code, close code, socket error). */
  endedBy?: string
  /** Resolves once the server completed the stream or it failed. */
  ended: Promise<void>
  /** Resolves at the first SuggestionsComplete, or once the stream ended. */
  settled: Promise<void>
}

type Event = { __typename: string; suggestions?: { contact: { id: string } }[] }

function openStream(url: string, token: string, live: boolean, tally: Tally): Stream {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true })
  let end!: () => void
  let settle!: () => void
  const stream: Stream = {
    client,
    opened: performance.now(),
    updates: [],
    isEnded: false,
    ended: new Promise((resolve) => (end = resolve)),
    settled: new Promise((resolve) => (settle = resolve)),
  }
  const finish = (reason: string) => {
    stream.endedBy ??= reason
    stream.isEnded = true
    settle()
    end()
  }
  client.subscribe<{ suggestions: Event }>(
    { query: suggestionsQuery(live) },
    {
      next(message) {
        tally.events++
        for (const error of message.errors ?? []) count(tally.errorsByCode, String(error.extensions?.code ?? 'NO_CODE'))
        const event = message.data?.suggestions
        const at = performance.now()
        if (event?.__typename === 'SuggestionBatch') {
          stream.firstBatchMs ??= at - stream.opened
          stream.contactId ??= event.suggestions?.[0]?.contact.id
        } else if (event?.__typename === 'SuggestionsThrottled') {
          tally.throttled++
        } else if (event?.__typename === 'SuggestionsComplete') {
          stream.completeMs ??= at - stream.opened
          settle()
        } else if (event?.__typename === 'SuggestionsUpdated') {
          stream.updates.push(at)
          stream.onUpdate?.()
        }
      },
      error(caught) {
        const reasons: string[] = []
        if (Array.isArray(caught) && caught.length > 0) {
          for (const error of caught as { extensions?: { code?: string } }[]) reasons.push(String(error.extensions?.code ?? 'NO_CODE'))
        } else if (caught instanceof Error) {
          reasons.push(caught.message)
        } else if (typeof (caught as { code?: unknown }).code === 'number') {
          reasons.push(`close ${(caught as { code: number }).code}`)
        } else {
          // The socket's error event (e.g. ECONNREFUSED: nothing listens any more).
          reasons.push(String((caught as { message?: string }).message || (caught as { type?: string }).type || 'socket error'))
        }
        for (const reason of reasons) count(tally.errorsByCode, reason)
        const closeReason = (caught as { reason?: unknown }).reason
        finish(reasons.join(', ') + (typeof closeReason === 'string' && closeReason ? ` (${closeReason})` : ''))
      },
      complete: () => finish('completed by the server'),
    },
  )
  return stream
}

/** Got its first SuggestionsComplete and still open. */
function isLive(stream: Stream): boolean {
  return stream.completeMs !== undefined && !stream.isEnded
}

/** The client-side figures of a scenario: streams over `seconds` of wall time. */
function streamFigures(streams: Stream[], tally: Tally, seconds: number) {
  const completed = streams.filter((stream) => stream.completeMs !== undefined).length
  return {
    subscriptions: streams.length,
    completed,
    errorsByCode: tally.errorsByCode,
    firstBatchMs: percentiles(streams.flatMap((stream) => stream.firstBatchMs ?? [])),
    completeMs: percentiles(streams.flatMap((stream) => stream.completeMs ?? [])),
    seconds: round(seconds, 3),
    walksPerSecond: round(completed / seconds, 1),
    events: tally.events,
    throttled: tally.throttled,
  }
}

/** This process's RSS, heap and memory outside the heap (buffers), in MB after a full GC, and its open file descriptors. */
function clientUsage() {
  collectGarbage()
  const usage = process.memoryUsage()
  const mb = (bytes: number) => bytes / 1024 / 1024
  return { rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external), openFiles: readdirSync('/proc/self/fd').length }
}

/**
 * A token for each user, 20 at a time: 1,000 transactions at once outwait Prisma's pool on a busy
 * machine (P2028, "Unable to start a transaction in the given time").
 */
async function issueTokens(userIds: string[]): Promise<string[]> {
  const tokens: string[] = []
  for (let first = 0; first < userIds.length; first += 20) {
    tokens.push(...(await Promise.all(userIds.slice(first, first + 20).map((id) => issueToken(db.prisma, id)))))
  }
  return tokens
}

/** A full GC (`--expose-gc` switched on at run time: the npm script runs this file through tsx without it). */
function collectGarbage(): void {
  if (!globalThis.gc) v8.setFlagsFromString('--expose-gc')
  ;(globalThis.gc ?? (runInNewContext('gc') as () => void))()
}

// ---------------------------------------------------------------- servers

interface Server {
  process: ServerProcess
  /** VmRSS (MB) once started and /metrics answered, before any load. */
  idleRssMb: number
  /** Its V8 heap used then (MB, from /metrics). */
  idleHeapMb: number
  /** Why it ended while nobody stopped it. */
  crashed?: string
  stopping: boolean
}

/** Starts `count` servers (each fails the scenario if it ends unasked) and checks their /metrics answers the token. */
async function startServers(count: number, env: Record<string, string>, oldSpaceMb: number, moreNodeArgs: string[] = []): Promise<Server[]> {
  const serverEnv = {
    DATABASE_URL: `${DATABASE_URL}?schema=${schema}`,
    NODE_ENV: 'production',
    // One deployment: every process signs and reads cursors with the same key.
    SECRET_KEY: randomBytes(48).toString('base64url'),
    SEED_DEMO_DATA: 'false',
    SUBSCRIPTIONS_PER_USER: String(perUser),
    METRICS_TOKEN,
    ...env,
  }
  const nodeArgs = [`--max-old-space-size=${oldSpaceMb}`, ...extraNodeArgs, ...moreNodeArgs]
  const started = await Promise.allSettled(Array.from({ length: count }, () => startServerProcess(serverEnv, { nodeArgs, compiled })))
  const servers: Server[] = []
  for (const outcome of started) {
    if (outcome.status === 'rejected') continue
    const server: Server = { process: outcome.value, idleRssMb: NaN, idleHeapMb: NaN, stopping: false }
    const { child } = server.process
    const crashed = (code: number | null, signal: string | null) => void (server.stopping || (server.crashed ??= `exited with code ${code}, signal ${signal}`))
    if (child.exitCode !== null || child.signalCode !== null) crashed(child.exitCode, child.signalCode)
    child.on('exit', crashed)
    servers.push(server)
    running.push(server)
  }
  const refused = started.find((outcome) => outcome.status === 'rejected')
  if (refused) throw new Error(`a server did not start: ${tail(String((refused.reason as Error).message))}`)
  for (const server of servers) {
    server.idleHeapMb = await heapUsedMb(server)
    server.idleRssMb = procStatusMb(server.process.child.pid!, 'VmRSS')
  }
  return servers
}

/**
 * Reads each server's figures (peak RSS, walks from /metrics), then stops it with SIGTERM.
 * A server that ended before (a crash), by a signal, with an exit code other than 0, or not
 * within STOP_TIMEOUT_MS goes into `failures` with the tail of its stderr and its last log lines.
 */
async function stopServers(servers: Server[], failures: string[]) {
  const figures: ServerFigures[] = []
  for (const [index, server] of servers.entries()) {
    const { child, stderr, logs, exited } = server.process
    const alive = () => child.exitCode === null && child.signalCode === null
    const peakRssMb = alive() ? procStatusMb(child.pid!, 'VmHWM') : NaN
    const walks = alive() ? await walkStats(server).catch(() => undefined) : undefined
    server.stopping = true
    if (alive()) child.kill('SIGTERM')
    const stopped = await within(STOP_TIMEOUT_MS, exited)
    if (!stopped) child.kill('SIGKILL')
    await exited
    running.splice(running.indexOf(server), 1)
    const ended = `exit code ${child.exitCode}, signal ${child.signalCode}`
    const name = `server ${index + 1} (pid ${child.pid})`
    if (!stopped) failures.push(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM: killed`)
    else if (server.crashed || walks === undefined || child.exitCode !== 0) {
      // /metrics not answering at the end means it was gone already; the 'exit' event may come after the clients saw their sockets close.
      const what = server.crashed || walks === undefined ? 'crashed during the scenario' : 'did not stop cleanly on SIGTERM'
      const lastLogs = logs.slice(-5).map((entry) => JSON.stringify(entry))
      failures.push(`${name} ${what}: ${ended}\n--- its stderr, last lines ---\n${tail(stderr())}\n--- its last log lines ---\n${lastLogs.join('\n')}`)
    }
    figures.push({
      pid: child.pid!,
      idleRssMb: round(server.idleRssMb, 1),
      peakRssMb: orNull(round(peakRssMb, 1)),
      engineWalks: walks?.count ?? null,
      meanWalkMs: walks && walks.count > 0 ? round((walks.seconds / walks.count) * 1000, 1) : null,
      exitCode: child.exitCode,
      signal: child.signalCode,
    })
  }
  const walked = figures.filter((server) => server.engineWalks !== null)
  const engineWalks = walked.reduce((sum, server) => sum + server.engineWalks!, 0)
  const walkMs = walked.reduce((sum, server) => sum + server.engineWalks! * (server.meanWalkMs ?? 0), 0)
  const known = (values: (number | null)[]) => values.filter((value): value is number => value !== null && !Number.isNaN(value))
  return {
    runner: compiled ? 'compiled' : 'tsx',
    engineWalks: walked.length > 0 ? engineWalks : null,
    meanWalkMs: engineWalks > 0 ? round(walkMs / engineWalks, 1) : null,
    idleRssMb: known(figures.map((server) => server.idleRssMb)).length > 0 ? Math.max(...known(figures.map((server) => server.idleRssMb))) : null,
    peakRssMb: known(figures.map((server) => server.peakRssMb)).length > 0 ? Math.max(...known(figures.map((server) => server.peakRssMb))) : null,
    servers: figures,
  } satisfies Partial<ScenarioResult>
}

async function kill(server: Server): Promise<void> {
  server.stopping = true
  if (server.process.child.exitCode === null && server.process.child.signalCode === null) server.process.child.kill('SIGKILL')
  await server.process.exited
}

/** The server's /metrics text (production: with the bearer token). */
async function readMetrics(server: Server): Promise<string> {
  const response = await fetch(server.process.url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  const text = await response.text()
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}: ${text.slice(0, 200)}`)
  return text
}

/** A metric without labels from Prometheus text. */
function metric(text: string, name: string): number {
  const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  if (!found) throw new Error(`/metrics has no ${name}`)
  return Number(found[1])
}

/** The server's V8 heap used (MB), from its /metrics. */
async function heapUsedMb(server: Server): Promise<number> {
  return metric(await readMetrics(server), 'nodejs_heap_used_bytes') / 1024 / 1024
}

/** How many walks the server's engine ran and their total duration (s), from its /metrics. */
async function walkStats(server: Server): Promise<{ count: number; seconds: number }> {
  const text = await readMetrics(server)
  return { count: metric(text, 'suggestion_generation_duration_seconds_count'), seconds: metric(text, 'suggestion_generation_duration_seconds_sum') }
}

/** A line of /proc/<pid>/status in MB (VmRSS: resident now, VmHWM: its peak); NaN once the process is gone. */
function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  let status = ''
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return NaN
  }
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024
}

/** The soft limit of open files of a process (`ulimit -n`; node raises it to the hard limit at start). */
function openFileLimit(pid: number | 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8')
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1]
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft)
}

// ---------------------------------------------------------------- figures

function emptyResult(scenario: ScenarioName, description: string): ScenarioResult {
  const none = { p50: null, p95: null, p99: null }
  return {
    scenario,
    description,
    runner: compiled ? 'compiled' : 'tsx',
    subscriptions: 0,
    completed: 0,
    errorsByCode: {},
    firstBatchMs: none,
    completeMs: none,
    seconds: 0,
    walksPerSecond: 0,
    engineWalks: null,
    meanWalkMs: null,
    idleRssMb: null,
    peakRssMb: null,
    rawWalksPerSecond: null,
    walksPerSecondVsRaw: null,
    failures: [],
  }
}

/** Nearest-rank percentiles (ms, one decimal); null without values. */
function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) => (sorted.length === 0 ? null : round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!, 1))
  return { p50: at(50), p95: at(95), p99: at(99) }
}

/** NaN (a figure that could not be read, e.g. of a process gone) as null. */
function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

/** Whether `promise` settled within `ms`. */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([promise.then(() => true), timedOut])
  } finally {
    clearTimeout(timer)
  }
}

/** The last `lines` lines of `text`. */
function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

function humanReport(result: ScenarioResult): string {
  const ms = (value: number | null) => (value === null ? '-' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`)
  const spread = (p: Percentiles) => `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}`
  const mb = (value: number | null | undefined) => (value === null || value === undefined ? '-' : `${value.toFixed(0)} MB`)
  const lines = [`## ${result.scenario}: ${result.description}`]
  const failures = result.failures.length > 0 ? [`FAILED: ${result.failures.map((failure) => failure.split('\n')[0]).join('; ')}`] : []
  if (result.subscriptions === 0) return `${[...lines, ...failures].join('\n')}\n\n`
  if (result.scenario === 'raw') {
    lines.push(
      `statements: ${result.completed} of ${result.subscriptions} in ${result.seconds.toFixed(2)} s = ${result.walksPerSecond} per second; errors: ${JSON.stringify(result.errorsByCode)}`,
      `mean statement ${result.meanWalkMs} ms, ${result.rowsPerStatement} rows each; done after: ${spread(result.completeMs)}`,
    )
    return `${[...lines, ...failures].join('\n')}\n\n`
  }
  const vsRaw = result.walksPerSecondVsRaw === null ? '' : ` (${(result.walksPerSecondVsRaw * 100).toFixed(0)}% of raw's ${result.rawWalksPerSecond}/s)`
  lines.push(
    `streams: ${result.completed} complete of ${result.subscriptions}; errors by code: ${JSON.stringify(result.errorsByCode)}`,
    `first batch: ${spread(result.firstBatchMs)}`,
    `complete:    ${spread(result.completeMs)}`,
    `walks per second: ${result.walksPerSecond}${vsRaw}; ${result.events} events in ${result.seconds.toFixed(2)} s (${result.throttled} SuggestionsThrottled)`,
    `server walks: ${(result.servers ?? []).map((s) => `${s.engineWalks ?? '?'} walks, mean ${ms(s.meanWalkMs)}`).join('; ')}`,
    `RSS idle / peak: ${(result.servers ?? []).map((s) => `${mb(s.idleRssMb)} / ${mb(s.peakRssMb)}`).join(', ')}; exit after SIGTERM: ${(result.servers ?? []).map((s) => (s.signal ? s.signal : s.exitCode)).join(', ')}`,
  )
  if (result.scenario === 'idle-live') {
    const write = result.write as { mutationMs: number; tabs: number; tabsReached: number; allTabsMs: number | null } | null
    const client = result.client as { rssMb: number; perSubscriptionKb: number | null; heapUsedMb: number; externalMb: number; openFiles: number; openFileLimit: number }
    const waves = result.waveMs as Percentiles & { max: number | null }
    lines.push(
      `opened all in ${result.openAllSeconds} s (${result.waves} waves of ${result.wave}: ${spread(waves)}, max ${ms(waves.max)})`,
      `server with all open: RSS ${mb(result.rssMb as number | null)} (${result.rssPerSubscriptionKb ?? '-'} KB per subscription over idle), heap ${mb(result.heapMb as number | null)} (${result.heapPerSubscriptionKb ?? '-'} KB per subscription)`,
      `live after opening: ${result.liveAfterOpen}, at the end: ${result.liveAtEnd} (server: ${result.serverActive ?? '-'} active, ${result.serverWaiting ?? '-'} waiting)`,
      write
        ? `write (logInteraction, ${ms(write.mutationMs)}) reached ${write.tabsReached} of ${write.tabs} tabs, the last after ${ms(write.allTabsMs)}`
        : "write: not made (not all of the writing user's tabs were live)",
      `client (this process): RSS ${mb(client.rssMb)}, heap ${mb(client.heapUsedMb)} + buffers ${mb(client.externalMb)} (${client.perSubscriptionKb ?? '-'} KB per subscription), ${client.openFiles} open files of ${client.openFileLimit}`,
    )
  }
  return `${[...lines, ...failures].join('\n')}\n\n`
}
