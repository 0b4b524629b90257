/**
 * `npm run bench:idle [-- --quiet 60] [--json]`
 *
 * Idle memory of a production server process after start-up: PostgreSQL (fresh schemas in the database of
 * DATABASE_URL), no Redis, NODE_ENV=production, as users run it. Three processes, started together:
 *   - `tsx`: `src/main.ts` through tsx (what `npm start` ran before the build step), schema already migrated;
 *   - `compiled`: `node dist/server/main.js` (`npm start`), schema already migrated (a restart: the common case);
 *   - `compiled, first start`: the same on an empty schema, so it applies every migration (the wasm schema
 *     engine is loaded, then released).
 * Each is left alone for `--quiet` seconds (V8 shrinks an idle heap some 10-30 s after its last
 * allocations), its VmRSS read every second from /proc/<pid>/status; then it reports the last VmRSS, its
 * peak (VmHWM), and V8's heap used from its /metrics. Prints a table, or one JSON object per line (`--json`).
 * MB are 2^20 bytes.
 */
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
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
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

async function measure(variant: Variant): Promise<Result> {
  const schema = `idle_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 2 })
  try {
    if (variant.migrated) await applyMigrations(db)
    const started = performance.now()
    const server = await startServerProcess(
      { DATABASE_URL: `${DATABASE_URL}?schema=${schema}`, NODE_ENV: 'production', METRICS_TOKEN, SEED_DEMO_DATA: 'false', REDIS_URL: '' },
      { compiled: variant.compiled },
    )
    const startMs = Math.round(performance.now() - started)
    try {
      // The quiet period: nothing is asked of the process; read its RSS every second.
      const pid = server.child.pid!
      const readings: number[] = []
      for (let second = 0; second < quietSeconds; second++) {
        await sleep(1000)
        readings.push(statusMb(pid, 'VmRSS'))
      }
      return {
        variant: variant.name,
        startMs,
        quietSeconds,
        rssMb: readings.at(-1)!,
        quietRssRangeMb: [Math.min(...readings), Math.max(...readings)],
        peakRssMb: statusMb(pid, 'VmHWM'),
        heapUsedMb: await heapUsedMb(server.url),
      }
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  } finally {
    await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
    await db.close()
  }
}

buildServer() // once, before the processes start together
const results = await Promise.all(variants.map(measure))
const mb = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} MB`)
if (!values.json) process.stdout.write(`idle memory of a production process on PostgreSQL, no Redis, after ${quietSeconds} s quiet\n\n`)
for (const result of results) {
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else
    process.stdout.write(
      `${result.variant.padEnd(22)} RSS ${mb(result.rssMb).padStart(9)} (quiet ${result.quietRssRangeMb.map((value) => value.toFixed(0)).join('-')})` +
        `  peak ${mb(result.peakRssMb).padStart(9)}  heap used ${mb(result.heapUsedMb).padStart(8)}  start ${(result.startMs / 1000).toFixed(1)} s\n`,
    )
}
