/**
 * `npm run bench:suggestions [-- --sizes 10000,100000,1000000 --k 50 --runs 3 --json]`
 *
 * For one user of each size (PostgreSQL, a fresh schema dropped at the end),
 * the top K suggestions three ways, in the same run:
 *   (a) PostgreSQL alone: `ORDER BY <the priority formula in SQL> DESC, id LIMIT K`
 *       (what a Hasura or PostGraphile user would write: a full scan and a top-N sort);
 *   (b) naive in Node: a raw `pg` keyset walk of every minimal row, scored and sorted (the oracle);
 *   (c) the engine: `generateTimeboundSuggestionsStreaming` (per-class keyset streams merged by bound).
 * Prints medians of time to the first batch and to the end, rows read, the
 * engine's heap growth, and checks that (b) and (c) give the same ids in the
 * same order (exit 1 otherwise); (a) agrees up to floating-point ties.
 * With `--json`: one JSON object per size, one per line, as each size is done
 * (see {@link SizeResult}); without it, a Markdown table at the end.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import pg from 'pg'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'
import type { DunbarCircle, FrequencyPreference } from '../src/generated/prisma/enums.ts'
import { createSuggestionEngine } from '../src/suggestions/generator.ts'
import { rankNaively } from '../src/suggestions/ranking.ts'
import { benchArgs, benchFail, requireGc } from './args.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const NOW = new Date('2026-11-25T12:00:00.000Z')

const USAGE = 'npm run bench:suggestions -- [--sizes 10000,100000] [--k 1..500] [--runs R] [--json]'
const values = benchArgs(USAGE, {
  sizes: { type: 'string', default: '10000,100000,1000000' },
  k: { type: 'string', default: '50' },
  runs: { type: 'string', default: '3' },
  json: { type: 'boolean', default: false },
})
requireGc(USAGE)
const sizes = values.sizes.split(',').map(Number)
const k = Number(values.k)
const runs = Number(values.runs)
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(k) || k < 1 || k > 500 || !(runs >= 1)) benchFail(USAGE, 'bad option value')

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`

// The priority formula of src/suggestions/priority.ts, in SQL.
const PRIORITY_SQL = `
  (CASE "dunbarCircle" WHEN 'INNER' THEN 5 WHEN 'CLOSE' THEN 4 WHEN 'ACTIVE' THEN 3 WHEN 'CASUAL' THEN 2
     WHEN 'ACQUAINTANCE' THEN 1.5 ELSE 1 END)::float8
  * (SELECT CASE WHEN r >= 1 THEN r ELSE exp(3 * (r - 1)) END FROM (SELECT
      extract(epoch FROM ($2::timestamp - "nextDueAt")) * 1000 / (86400000.0 * (CASE
        WHEN "frequencyPreference" = 'WEEKLY' THEN 7 WHEN "frequencyPreference" = 'BIWEEKLY' THEN 14
        WHEN "frequencyPreference" = 'MONTHLY' THEN 30 WHEN "frequencyPreference" = 'QUARTERLY' THEN 90
        WHEN "frequencyPreference" = 'BIANNUAL' THEN 182 WHEN "frequencyPreference" = 'YEARLY' THEN 365
        WHEN "dunbarCircle" = 'INNER' THEN 7 WHEN "dunbarCircle" = 'CLOSE' THEN 14 WHEN "dunbarCircle" = 'ACTIVE' THEN 30
        WHEN "dunbarCircle" = 'CASUAL' THEN 90 ELSE 365 END)) + 1 AS r) AS ratio)`

interface MinimalRow {
  id: string
  nextDueAt: Date
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
}

async function naiveInNode(pool: pg.Pool, userId: string) {
  const rows: MinimalRow[] = []
  let after: [Date, string] | undefined
  for (;;) {
    const page = await pool.query<MinimalRow>(
      `SELECT id, "nextDueAt", "dunbarCircle", "frequencyPreference", name, "lastContactDate", timezone FROM "Contact"
        WHERE "userId" = $1 AND NOT archived ${after ? 'AND ("nextDueAt", id) > ($2, $3)' : ''}
        ORDER BY "nextDueAt", id LIMIT 1000`,
      after ? [userId, after[0], after[1]] : [userId],
    )
    rows.push(...page.rows)
    if (page.rows.length < 1000) break
    const last = page.rows.at(-1)!
    after = [last.nextDueAt, last.id]
  }
  return { ids: rankNaively(rows, NOW, k).map((row) => row.id), read: rows.length }
}

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 10 })
/** One size's figures (medians over the runs after a warm-up), as `--json` prints them. */
interface SizeResult {
  contacts: number
  k: number
  runs: number
  /** (a) PostgreSQL alone: ORDER BY the priority formula LIMIT K. */
  sqlOrderByLimitMs: number
  /** (b) every minimal row through a raw pg keyset walk, scored and sorted in Node. */
  naiveScanMs: number
  naiveRowsRead: number
  /** (c) the engine: time to its first batch and to `complete`, rows it read, its heap growth (max over runs). */
  engineFirstBatchMs: number
  engineCompleteMs: number
  engineRowsRead: number
  engineHeapGrowthMb: number
  /** Of the K ids of (a), how many sit at the same rank as in (b) (K unless floating-point ties). */
  sqlAgrees: number
  date: string
  /** os.loadavg() when the size was done: 1, 5 and 15 minutes. */
  loadAverage: number[]
}

const round = (x: number) => Math.round(x * 100) / 100
const results: SizeResult[] = []
let failed = false
try {
  await applyMigrations(db)
  // pg returns "timestamp" columns as local Date: read them as UTC like Prisma does.
  pg.types.setTypeParser(1114, (text: string) => new Date(`${text.replace(' ', 'T')}Z`))
  const engine = createSuggestionEngine({
    prisma: db.prisma,
    contactRows: db,
    now: () => NOW,
    defaultSlots: async () => [],
    userTimezone: async () => 'Europe/Berlin',
  })
  for (const size of sizes) {
    const seeded = await seedBenchUsers(db, { users: 1, contacts: size, now: NOW, emailPrefix: `size${size}` })
    const userId = seeded.userIds[0]!
    await db.query('ANALYZE "Contact"')
    const sqlTimes: number[] = []
    const naiveTimes: number[] = []
    const firstTimes: number[] = []
    const engineTimes: number[] = []
    let scanned = 0
    let naiveRead = 0
    let heapGrowth = 0
    let sqlAgreement = 0
    for (let run = 0; run <= runs; run++) {
      const warm = run === 0
      let t = performance.now()
      const sql = await db.pool!.query<{ id: string }>(
        `SELECT id FROM "Contact" WHERE "userId" = $1 AND NOT archived ORDER BY ${PRIORITY_SQL} DESC, id LIMIT ${k}`,
        [userId, NOW.toISOString().replace('Z', '')],
      )
      if (!warm) sqlTimes.push(performance.now() - t)

      t = performance.now()
      const naive = await naiveInNode(db.pool!, userId)
      if (!warm) naiveTimes.push(performance.now() - t)
      naiveRead = naive.read

      global.gc!()
      const heapBefore = process.memoryUsage().heapUsed
      let peak = heapBefore
      t = performance.now()
      const ids: string[] = []
      let first = 0
      for await (const event of engine.generateTimeboundSuggestionsStreaming(userId, { maxSuggestions: k, slots: [] })) {
        peak = Math.max(peak, process.memoryUsage().heapUsed)
        if (event.kind === 'batch') {
          if (ids.length === 0) first = performance.now() - t
          ids.push(...event.suggestions.map((s) => s.contact.id))
        }
        if (event.kind === 'complete') scanned = event.scanned
      }
      if (!warm) {
        engineTimes.push(performance.now() - t)
        firstTimes.push(first)
        heapGrowth = Math.max(heapGrowth, peak - heapBefore)
      }
      if (ids.join() !== naive.ids.join()) {
        failed = true
        process.stderr.write(`MISMATCH at ${size}: the engine and the naive scan disagree\n`)
      }
      sqlAgreement = sql.rows.filter((row, i) => row.id === naive.ids[i]).length
    }
    const result: SizeResult = {
      contacts: size,
      k,
      runs,
      sqlOrderByLimitMs: round(median(sqlTimes)),
      naiveScanMs: round(median(naiveTimes)),
      naiveRowsRead: naiveRead,
      engineFirstBatchMs: round(median(firstTimes)),
      engineCompleteMs: round(median(engineTimes)),
      engineRowsRead: scanned,
      engineHeapGrowthMb: round(heapGrowth / 1048576),
      sqlAgrees: sqlAgreement,
      date: new Date().toISOString(),
      loadAverage: loadavg().map(round),
    }
    results.push(result)
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  }
} finally {
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
const row = (r: SizeResult) =>
  [
    r.contacts.toLocaleString('en'),
    ms(r.sqlOrderByLimitMs),
    `${ms(r.naiveScanMs)} (${r.naiveRowsRead.toLocaleString('en')} rows)`,
    ms(r.engineFirstBatchMs),
    `${ms(r.engineCompleteMs)} (${r.engineRowsRead.toLocaleString('en')} rows)`,
    `${(r.sqlOrderByLimitMs / r.engineCompleteMs).toFixed(1)}x`,
    `${(r.naiveScanMs / r.engineCompleteMs).toFixed(0)}x`,
    `${r.engineHeapGrowthMb.toFixed(1)} MB`,
    `${r.sqlAgrees}/${k}`,
  ].join(' | ')
if (!values.json) {
  process.stdout.write(
    `top ${k}, median of ${runs} runs, PostgreSQL ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n` +
      '| contacts | (a) SQL ORDER BY LIMIT | (b) naive in Node | (c) engine: first batch | (c) engine: complete | a/c | b/c | engine heap growth | SQL agrees |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' +
      results.map((r) => `| ${row(r)} |`).join('\n') +
      '\n',
  )
}
process.exit(failed ? 1 : 0)
