/**
 * `npm run bench:webhooks [-- --deliveries 1000 --rounds 3 --latency 200 --json]`
 *
 * Webhook deliveries (issue 17) from one process to a loopback receiver (node:http; WEBHOOKS_ALLOW_PRIVATE_URLS=true)
 * that verifies every request with the `standardwebhooks` package's `Webhook` and answers 200. The server is
 * buildApp on PostgreSQL (a fresh schema of DATABASE_URL or the local `test` database), run twice: its jobs on BullMQ
 * (REDIS_URL or the local Redis, a key prefix of this run), then on the in-process runner. Per runner:
 *
 * - Throughput: N deliveries made by the server's own event code (createWebhookEvents' `emit`, wired to the app's
 *   jobs as app.ts wires it; 8 emitters at once) until the receiver has them all; baseline in the same round: N
 *   POSTs signed the same way (signedHeaders) through the same outbound fetch, 8 at once (the worker's
 *   concurrency), from a bare loop. The ratio is what the queue, the database claim and the attempt log cost.
 *   Rounds alternate which goes first; medians.
 * - Latency: `logInteraction` over HTTP POST /graphql, one at a time, from sending it to the receiver having its
 *   `interaction.logged`; interleaved baselines: the same mutation of a user without endpoints (the mutation's own
 *   time) and one bare signed POST.
 * - Jobs per delivery: BullMQ's 'added' events of `webhook-deliveries` (QueueEvents) over every phase, against the
 *   deliveries created; among them N deliveries whose every 5th is answered 500 at its first attempt (the retry
 *   schedule shortened to 100 ms through buildApp's `webhookRetryScheduleMs`): attempts > deliveries, jobs = deliveries.
 *
 * Exits 1 when a request does not verify, a delivery is answered 200 twice, or a delivery costs more than one job.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg } from 'node:os'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { Webhook } from 'standardwebhooks'
import { buildApp } from '../src/app.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { createCredentialBudgets } from '../src/graphql/limits/budget.ts'
import { WEBHOOK_QUEUE_NAME } from '../src/jobs/bullmq-jobs.ts'
import { DEFAULTS } from '../src/jobs/job-work.ts'
import { createLogger } from '../src/logger.ts'
import { DELIVERY_TIMEOUT_MS } from '../src/webhooks/deliver.ts'
import { createWebhookEvents, webhookPayload } from '../src/webhooks/webhook-events.ts'
import { signedHeaders } from '../src/webhooks/webhook-signature.ts'
import { createWebhookFetch } from '../src/webhooks/webhook-url.ts'
import { benchArgs, benchFail, positiveInteger } from './args.ts'
import { createSmallUser, median } from './request-rounds.ts'

const USAGE = 'npm run bench:webhooks [-- --deliveries N] [--rounds R] [--latency L] [--json]'
const values = benchArgs(USAGE, { deliveries: { type: 'string' }, rounds: { type: 'string' }, latency: { type: 'string' }, json: { type: 'boolean', default: false } })
const fail = (message: string) => benchFail(USAGE, message)
const deliveries = positiveInteger('deliveries', values.deliveries, 1000, fail)
const rounds = positiveInteger('rounds', values.rounds, 3, fail)
const latencySamples = positiveInteger('latency', values.latency, 200, fail)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const CONCURRENCY = DEFAULTS.webhookConcurrency
const SHORT_SCHEDULE = [0, 100, 100, 100, 100, 100, 100, 100, 100, 100]
const FAIL_FIRST_EVERY = 5
/** The longest a phase waits for the receiver before the run fails, in ms. */
const PHASE_TIMEOUT_MS = 300_000
const LOG = 'mutation($id: ID!) { logInteraction(contactId: $id, input: { kind: CALL }) { id } }'
const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }'

/** The `q` quantile of `xs` (nearest rank), rounded to 0.1 ms. */
const quantile = (xs: number[], q: number) => Math.round([...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(q * xs.length) - 1)]! * 10) / 10
const round3 = (x: number) => Number(x.toFixed(3))

/** What the receiver does on one path: verifies with the path's secret, answers, counts. */
class Sink {
  private readonly webhook: Webhook
  private readonly seen = new Set<string>()
  private readonly succeeded = new Set<string>()
  private waiters: { count: number; resolve: (at: number) => void }[] = []
  requests = 0
  verificationFailures = 0
  duplicates = 0
  /** Every k-th new webhook-id is answered 500 at its first attempt (0: none). */
  failFirstEvery = 0

  constructor(secret: string) {
    this.webhook = new Webhook(secret)
  }

  get delivered(): number {
    return this.succeeded.size
  }

  /** Verifies one request and returns the status to answer. */
  receive(body: string, headers: IncomingHttpHeaders): number {
    this.requests++
    try {
      this.webhook.verify(body, headers as Record<string, string>)
    } catch {
      this.verificationFailures++
    }
    const id = String(headers['webhook-id'])
    const first = !this.seen.has(id)
    this.seen.add(id)
    if (first && this.failFirstEvery > 0 && this.seen.size % this.failFirstEvery === 0) return 500
    if (this.succeeded.has(id)) this.duplicates++
    this.succeeded.add(id)
    const at = performance.now()
    this.waiters = this.waiters.filter((waiter) => (this.succeeded.size >= waiter.count ? (waiter.resolve(at), false) : true))
    return 200
  }

  /** Resolves with the time (performance.now()) the receiver has answered 200 to `count` distinct deliveries. */
  until(count: number): Promise<number> {
    if (this.succeeded.size >= count) return Promise.resolve(performance.now())
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the receiver had ${this.succeeded.size} of ${count} deliveries after ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS)
      this.waiters.push({ count, resolve: (at) => (clearTimeout(timer), resolve(at)) })
    })
  }
}

const sinks = new Map<string, Sink>()
let receiverOrigin = ''
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const status = sinks.get(request.url ?? '')?.receive(Buffer.concat(chunks).toString('utf8'), request.headers) ?? 404
    response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `status ${status}`)
  })
})

/** Runs `task` `count` times, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, task: () => Promise<unknown>): Promise<void> {
  let started = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (started++ < count) await task()
  }))
}

async function graphql<T>(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })
  const result = (await response.json()) as { data?: T; errors?: unknown[] }
  if (result.errors || !result.data) throw new Error(`GraphQL answered ${response.status}: ${JSON.stringify(result.errors)}`)
  return result.data
}

/** Polls `check` every 20 ms until it holds or `timeoutMs` has passed; resolves with whether it held. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

// The baseline's client: the app's own outbound fetch (node:http, keep-alive, the guard at connect), the app's signing.
const outboundFetch = createWebhookFetch({ production: false, allowPrivate: true }, DELIVERY_TIMEOUT_MS)
const baselineSecret = `whsec_${randomBytes(32).toString('base64')}`
let baselineIds = 0
async function signedPost(url: string, data: Record<string, unknown>): Promise<void> {
  const id = `msg_bench_${++baselineIds}`
  const now = new Date()
  const body = webhookPayload('interaction.logged', now, data)
  const response = await outboundFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(id, now, body, [baselineSecret]) }, body, redirect: 'manual' })
  await response.text()
  if (response.status !== 200) throw new Error(`the receiver answered ${response.status} to a baseline POST`)
}

const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const schema = `bench_${runId}`
const prefix = `bench-webhooks-${runId}`
const secretKey = randomBytes(48).toString('base64url')
const loads: number[] = [loadavg()[0]!]
let queries = 0
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10, onQuery: () => queries++ })
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000 })

/** Every figure of one runner. */
async function runVariant(runner: 'bullmq' | 'in-process') {
  const onRedis = runner === 'bullmq'
  const logger = createLogger('silent')
  const config = { ...parseConfig({ NODE_ENV: 'test', SECRET_KEY: secretKey, WEBHOOKS_ALLOW_PRIVATE_URLS: 'true', ...(onRedis ? { REDIS_URL } : {}) }), port: 0, host: '127.0.0.1' }
  // Jobs' 'added' events: the exact count of queue jobs created (a retry is the same job moved to delayed, not an add).
  const queueEvents = onRedis ? new QueueEvents(WEBHOOK_QUEUE_NAME, { connection: { url: REDIS_URL }, prefix }) : undefined
  const jobIds = new Set<string>()
  let jobsAdded = 0
  queueEvents?.on('added', ({ jobId }) => (jobsAdded++, jobIds.add(jobId)))
  await queueEvents?.waitUntilReady()
  const budgets = onRedis ? createCredentialBudgets({ limits: config.partnerBudgets, redisUrl: REDIS_URL, logger, keyPrefix: `${prefix}:budget` }) : undefined
  const app = buildApp({ config, db, logger, webhookRetryScheduleMs: SHORT_SCHEDULE, ...(onRedis ? { jobsPrefix: prefix, budgets } : {}) })
  let enqueueCalls = 0
  const enqueue = app.jobs.enqueueWebhookDelivery.bind(app.jobs)
  app.jobs.enqueueWebhookDelivery = (deliveryId, options) => (enqueueCalls++, enqueue(deliveryId, options))
  const { url } = await app.start()
  try {
    const events = createWebhookEvents({ prisma: db.prisma, enqueue: (id, delayMs) => app.jobs.enqueueWebhookDelivery(id, { delayMs }), now: () => new Date(), logger })
    const endpointIds: string[] = []
    const user = async (name: string, withEndpoint: boolean) => {
      const { userId, token } = await createSmallUser(db.prisma, `${runner}-${name}@example.com`)
      const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId }, select: { id: true } })
      const path = `/${runner}/${name}`
      if (withEndpoint) {
        const { createWebhookEndpoint: created } = await graphql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(url, token, CREATE, { input: { url: `${receiverOrigin}${path}`, eventTypes: ['interaction.logged'] } })
        sinks.set(path, new Sink(created.secret))
        endpointIds.push(Buffer.from(created.endpoint.id, 'base64').toString('utf8').split(':')[1]!)
      }
      return { userId, token, contactId: encodeGlobalID('Contact', contact.id), sink: sinks.get(path)! }
    }
    const [bulk, latency, plain, retried] = [await user('throughput', true), await user('latency', true), await user('plain', false), await user('retry', true)]
    const data = { contactId: bulk.contactId, occurredAt: new Date().toISOString(), kind: 'CALL' }
    const baselineUrl = `${receiverOrigin}/baseline`

    // Throughput. Warm-up first (JIT, Prisma's plans, sockets), untimed.
    // CPU of this process (server, receiver, clients) per delivery: steadier than rates on a shared machine.
    const cpu = { pipeline: [] as number[], bare: [] as number[] }
    const cpuMicros = (since: NodeJS.CpuUsage) => ((used) => used.user + used.system)(process.cpuUsage(since))
    let pipelineQueries = 0
    const pipeline = async (count: number) => {
      const [started, queriesBefore, cpuBefore] = [performance.now(), queries, process.cpuUsage()]
      const target = bulk.sink.delivered + count
      await inParallel(count, CONCURRENCY, () => events.emit(bulk.userId, 'interaction.logged', data))
      const rate = count / (((await bulk.sink.until(target)) - started) / 1000)
      cpu.pipeline.push(cpuMicros(cpuBefore) / count)
      pipelineQueries = (queries - queriesBefore) / count
      return rate
    }
    const bare = async (count: number) => {
      const [started, cpuBefore] = [performance.now(), process.cpuUsage()]
      await inParallel(count, CONCURRENCY, () => signedPost(baselineUrl, data))
      cpu.bare.push(cpuMicros(cpuBefore) / count)
      return count / ((performance.now() - started) / 1000)
    }
    await pipeline(Math.min(100, deliveries))
    await bare(Math.min(100, deliveries))
    cpu.pipeline.length = cpu.bare.length = 0
    const measured = { pipeline: [] as number[], bare: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? (['pipeline', 'bare'] as const) : (['bare', 'pipeline'] as const)) {
        measured[variant].push(await (variant === 'pipeline' ? pipeline : bare)(deliveries))
      }
      loads.push(loadavg()[0]!)
    }

    // Latency: one mutation at a time, with the two baselines interleaved; 10 untimed first.
    const times = { delivered: [] as number[], mutationWithEndpoint: [] as number[], mutationAlone: [] as number[], post: [] as number[] }
    for (let i = -10; i < latencySamples; i++) {
      const arrived = latency.sink.until(latency.sink.delivered + 1)
      const sent = performance.now()
      await graphql(url, latency.token, LOG, { id: latency.contactId })
      const answered = performance.now()
      const delivered = (await arrived) - sent
      const alone = performance.now()
      await graphql(url, plain.token, LOG, { id: plain.contactId })
      const aloneMs = performance.now() - alone
      const post = performance.now()
      await signedPost(baselineUrl, data)
      const postMs = performance.now() - post
      if (i < 0) continue
      times.delivered.push(delivered)
      times.mutationWithEndpoint.push(answered - sent)
      times.mutationAlone.push(aloneMs)
      times.post.push(postMs)
    }
    loads.push(loadavg()[0]!)

    // Retries: every 5th delivery refused once; then every delivery of the run settled in the database.
    retried.sink.failFirstEvery = FAIL_FIRST_EVERY
    await inParallel(deliveries, CONCURRENCY, () => events.emit(retried.userId, 'interaction.logged', data))
    await retried.sink.until(deliveries)
    const ours = { endpointId: { in: endpointIds } }
    if (!(await eventually(async () => (await db.prisma.webhookDelivery.count({ where: { ...ours, state: { not: 'SUCCEEDED' } } })) === 0, 30_000))) throw new Error('deliveries left unsettled')
    const created = await db.prisma.webhookDelivery.count({ where: ours })
    const retriedId = endpointIds[2]!
    const retryAttemptsLogged = await db.prisma.webhookAttempt.count({ where: { delivery: { endpointId: retriedId } } })
    // QueueEvents reads Redis' event stream a little behind the queue.
    if (queueEvents) await eventually(() => jobsAdded >= created, 5000)
    loads.push(loadavg()[0]!)
    const all = [bulk.sink, latency.sink, retried.sink]
    return {
      runner,
      deliveriesPerSecond: Math.round(median(measured.pipeline)),
      baselinePostsPerSecond: Math.round(median(measured.bare)),
      ratio: round3(median(measured.pipeline) / median(measured.bare)),
      pairedRatio: round3(median(measured.pipeline.map((rate, i) => rate / measured.bare[i]!))),
      roundsDeliveriesPerSecond: measured.pipeline.map(Math.round),
      roundsBaselinePostsPerSecond: measured.bare.map(Math.round),
      // SQL statements per delivery in the last round (emit and attempt; a few attempts' logs may land after the receiver's last 200).
      queriesPerDelivery: Math.round(pipelineQueries * 10) / 10,
      cpuMicrosPerDelivery: Math.round(median(cpu.pipeline)),
      cpuMicrosPerBarePost: Math.round(median(cpu.bare)),
      latencyP50Ms: quantile(times.delivered, 0.5),
      latencyP99Ms: quantile(times.delivered, 0.99),
      mutationWithEndpointP50Ms: quantile(times.mutationWithEndpoint, 0.5),
      baselineP50Ms: quantile(times.mutationAlone, 0.5),
      baselineP99Ms: quantile(times.mutationAlone, 0.99),
      barePostP50Ms: quantile(times.post, 0.5),
      barePostP99Ms: quantile(times.post, 0.99),
      deliveriesCreated: created,
      jobsAdded: queueEvents ? jobsAdded : null,
      distinctJobIds: queueEvents ? jobIds.size : null,
      jobsPerDelivery: queueEvents ? round3(jobsAdded / created) : null,
      enqueueCallsPerDelivery: round3(enqueueCalls / created),
      retryPhase: { deliveries, refusedFirst: Math.floor(deliveries / FAIL_FIRST_EVERY), attemptsReceived: retried.sink.requests, attemptsLogged: retryAttemptsLogged },
      attemptsPerDelivery: round3(retried.sink.requests / deliveries),
      verificationFailures: all.reduce((sum, sink) => sum + sink.verificationFailures, 0),
      duplicateDeliveries: all.reduce((sum, sink) => sum + sink.duplicates, 0),
    }
  } finally {
    await app.stop({ graceMs: 100 })
    await queueEvents?.close()
  }
}

let exitCode = 0
try {
  await redis.ping()
  await applyMigrations(db)
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverOrigin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  sinks.set('/baseline', new Sink(baselineSecret))
  const [bull, inProcess] = [await runVariant('bullmq'), await runVariant('in-process')]
  const verificationFailures = [...sinks.values()].reduce((sum, sink) => sum + sink.verificationFailures, 0)
  const result = { ...bull, inProcess, deliveries, rounds, latencySamples, concurrency: CONCURRENCY, verificationFailures, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, date: new Date().toISOString() }
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    const { min, max } = result.loadAverage
    process.stdout.write(`webhooks: ${deliveries} deliveries per round, median of ${rounds} rounds, ${CONCURRENCY} at once; latency over ${latencySamples} mutations one at a time; load average ${min.toFixed(2)}-${max.toFixed(2)}\n`)
    for (const row of [bull, inProcess]) {
      process.stdout.write(`${row.runner}:\n`)
      process.stdout.write(`  throughput: ${row.deliveriesPerSecond} deliveries/s vs ${row.baselinePostsPerSecond} bare signed POSTs/s: ratio ${row.ratio} (paired ${row.pairedRatio}; rounds ${row.roundsDeliveriesPerSecond.join(', ')} vs ${row.roundsBaselinePostsPerSecond.join(', ')})\n`)
      process.stdout.write(`  per delivery: ${row.queriesPerDelivery} SQL statements, ${row.cpuMicrosPerDelivery} µs CPU of this process (bare POST: ${row.cpuMicrosPerBarePost} µs)\n`)
      process.stdout.write(`  mutation -> receiver: p50 ${row.latencyP50Ms} ms, p99 ${row.latencyP99Ms} ms (mutation alone p50 ${row.baselineP50Ms} / p99 ${row.baselineP99Ms} ms; with an endpoint p50 ${row.mutationWithEndpointP50Ms} ms; bare POST p50 ${row.barePostP50Ms} / p99 ${row.barePostP99Ms} ms)\n`)
      process.stdout.write(`  ${row.deliveriesCreated} deliveries: ${row.jobsAdded ?? 'no'} queue jobs added (${row.jobsPerDelivery ?? '-'} per delivery), ${row.enqueueCallsPerDelivery} enqueue calls per delivery\n`)
      process.stdout.write(`  retries (every ${FAIL_FIRST_EVERY}th refused once): ${row.retryPhase.attemptsReceived} attempts for ${deliveries} deliveries (${row.attemptsPerDelivery} per delivery; ${row.retryPhase.attemptsLogged} logged)\n`)
      process.stdout.write(`  verification failures ${row.verificationFailures}, deliveries answered 200 twice ${row.duplicateDeliveries}\n`)
    }
  }
  if (verificationFailures > 0 || bull.duplicateDeliveries + inProcess.duplicateDeliveries > 0 || (bull.jobsPerDelivery ?? 0) > 1) {
    process.stderr.write('FAILED: a request did not verify, a delivery was answered 200 twice, or a delivery cost more than one job\n')
    exitCode = 1
  }
} finally {
  receiver.closeAllConnections()
  receiver.close()
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
  const keys: string[] = []
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) keys.push(...(batch as string[]))
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500))
  redis.disconnect()
}
process.exit(exitCode)
