/**
 * `npm run bench:idle [-- --quiet 60] [--json]`
 *
 * Idle memory of a production server process after start-up: PostgreSQL (fresh schemas in the database of
 * DATABASE_URL), no Redis, NODE_ENV=production, as users run it. Three processes, started together:
 *   - `tsx`: `src/main.ts` through tsx (what `npm start` ran before the build step), schema already migrated;
 *   - `compiled`: `node dist/server/main.js` (`npm start`), schema already migrated (a restart: the common case);
 *   - `compiled, first start`: the same on an empty schema, so it applies every migration (the wasm schema
 *     engine is loaded, then released).
 * Each is left alone for `--quiet` seconds (V8 shrinks an idle heap some time after start-up: 35-45 s
 * in the runs of bench/README.md, sometimes later than 60 s), its VmRSS read every second from
 * /proc/<pid>/status; then it reports the last VmRSS, when it shrank, its peak (VmHWM), and V8's heap used
 * from its /metrics. Prints a table, or one JSON object per line (`--json`); progress goes to stderr.
 * DATABASE_URL's `?schema=` is ignored (each process gets a fresh schema, dropped at the end, also on
 * failure or Ctrl-C). MB are 2^20 bytes.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { buildServer, startServerProcess } from '../test/helpers/server-process.ts'
import { benchArgs, benchFail, positiveInteger } from './args.ts'

const USAGE = 'npm run bench:idle [-- --quiet SECONDS (default 60)] [--json]'
const values = benchArgs(USAGE, { quiet: { type: 'string' }, json: { type: 'boolean', default: false } })
const quietSeconds = positiveInteger('quiet', values.quiet, 60, (message) => benchFail(USAGE, message))
// The database of DATABASE_URL, without its `?schema=` (each process gets a fresh schema of its own).
const BASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test')
  url.searchParams.delete('schema')
  return url.toString()
})()
const METRICS_TOKEN = randomBytes(24).toString('base64url')

interface Variant {
  name: string
  compiled: boolean
  migrated: boolean
}
const variants: Variant[] = [
  { name: 'tsx', compiled: false, migrated: true },
  { name: 'compiled', compiled: true, migrated: true },
  { name: 'compiled, first start', compiled: true, migrated: false },
]

/** One measured process. */
interface Result {
  variant: string
  /** From spawning to its "listening" log line. */
  startMs: number
  quietSeconds: number
  /** VmRSS at the end of the quiet period, and its lowest and highest reading during it. */
  rssMb: number
  quietRssRangeMb: [number, number]
  /**
   * The second of the quiet period from which VmRSS stayed within 5 MB of its last reading (V8 had
   * shrunk the idle heap); null when it did not move by more than that (not shrunk yet, or before it began).
   */
  shrankAfterSeconds: number | null
  /** VmHWM: the most the process ever held. */
  peakRssMb: number
  heapUsedMb: number | null
}

/** A `/proc/<pid>/status` field in MB (the kernel gives kB). */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no ${field} for process ${pid}`)
  return Math.round((Number(match[1]) / 1024) * 10) / 10
}

/** V8's heap used (MB) as the process reports it on /metrics, or null when it does not answer. */
async function heapUsedMb(graphqlUrl: string): Promise<number | null> {
  const response = await fetch(new URL('/metrics', graphqlUrl), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  if (!response.ok) return null
  const match = /^nodejs_heap_used_bytes (\S+)$/m.exec(await response.text())
  return match ? Math.round((Number(match[1]) / 1024 ** 2) * 10) / 10 : null
}

/** Progress for a person, on stderr (stdout holds the results, maybe --json). */
const progress = (line: string) => process.stderr.write(`${line}\n`)

/** The schemas this run created, dropped at the end whatever happens (also on Ctrl-C); the servers running. */
const schemas = new Set<string>()
const running = new Set<ChildProcess>()
const admin = await openDatabase({ databaseUrl: BASE_URL, maxConnections: 1 })
async function dropSchemas(): Promise<void> {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error: unknown) => progress(`could not drop schema ${schema}: ${String(error)}`))
  schemas.clear()
}
process.once('SIGINT', () => {
  // A terminal's Ctrl-C reached the servers too; a SIGINT sent to this process alone did not.
  progress('interrupted: stopping the servers, dropping the schemas')
  for (const child of running) child.kill('SIGTERM')
  void dropSchemas().finally(() => process.exit(130))
})

/** See {@link Result.shrankAfterSeconds}; `readings` are one a second. */
function shrankAfterSeconds(readings: number[]): number | null {
  const last = readings.at(-1)!
  let index = readings.length - 1
  while (index > 0 && Math.abs(readings[index - 1]! - last) <= 5) index--
  return index === 0 ? null : index + 1
}

async function measure(variant: Variant): Promise<Result> {
  const schema = `idle_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  schemas.add(schema)
  const db = await openDatabase({ databaseUrl: BASE_URL, schema, maxConnections: 2 })
  try {
    if (variant.migrated) await applyMigrations(db)
  } finally {
    await db.close()
  }
  const childUrl = new URL(BASE_URL)
  childUrl.searchParams.set('schema', schema)
  const started = performance.now()
  const server = await startServerProcess(
    { DATABASE_URL: childUrl.toString(), NODE_ENV: 'production', METRICS_TOKEN, SEED_DEMO_DATA: 'false', REDIS_URL: '' },
    { compiled: variant.compiled },
  ).catch((error: unknown) => {
    // The message holds the process's last log lines: why it stopped.
    throw new Error(`${variant.name}: ${error instanceof Error ? error.message : String(error)}`)
  })
  running.add(server.child)
  const startMs = Math.round(performance.now() - started)
  progress(`${variant.name}: listening after ${(startMs / 1000).toFixed(1)} s; quiet for ${quietSeconds} s`)
  try {
    // The quiet period: nothing is asked of the process; read its RSS every second.
    const pid = server.child.pid!
    const readings: number[] = []
    for (let second = 1; second <= quietSeconds; second++) {
      await sleep(1000)
      readings.push(statusMb(pid, 'VmRSS'))
      if (second % 15 === 0 && second < quietSeconds) progress(`${variant.name}: ${second} s of ${quietSeconds}, RSS ${readings.at(-1)!.toFixed(0)} MB`)
    }
    return {
      variant: variant.name,
      startMs,
      quietSeconds,
      rssMb: readings.at(-1)!,
      quietRssRangeMb: [Math.min(...readings), Math.max(...readings)],
      shrankAfterSeconds: shrankAfterSeconds(readings),
      peakRssMb: statusMb(pid, 'VmHWM'),
      heapUsedMb: await heapUsedMb(server.url),
    }
  } finally {
    server.child.kill('SIGTERM')
    await server.exited
    running.delete(server.child)
  }
}

let results: Result[]
try {
  progress('building dist/ when stale...')
  buildServer() // once, before the processes start together
  progress(`starting ${variants.length} production servers (${variants.map((variant) => variant.name).join('; ')})...`)
  const settled = await Promise.allSettled(variants.map(measure))
  const failed = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []))
  if (failed.length > 0) {
    for (const reason of failed) progress(reason instanceof Error ? reason.message : String(reason))
    process.exitCode = 1
  }
  results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))
} finally {
  await dropSchemas()
  await admin.close()
}
const mb = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} MB`)
if (!values.json && results.length > 0) process.stdout.write(`idle memory of a production process on PostgreSQL, no Redis, after ${quietSeconds} s quiet\n\n`)
for (const result of results) {
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else
    process.stdout.write(
      `${result.variant.padEnd(22)} RSS ${mb(result.rssMb).padStart(9)} (quiet ${result.quietRssRangeMb.map((value) => value.toFixed(0)).join('-')}, ${result.shrankAfterSeconds === null ? 'did not shrink' : `shrank after ${result.shrankAfterSeconds} s`})` +
        `  peak ${mb(result.peakRssMb).padStart(9)}  heap used ${mb(result.heapUsedMb).padStart(8)}  start ${(result.startMs / 1000).toFixed(1)} s\n`,
    )
}
