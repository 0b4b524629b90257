/**
 * `npm run bench:stream [-- --contacts N --runs R --pglite --pglite-contacts N --variants --show-sql]`
 *
 * Walks one user's non-archived contacts (100,000 by default) in pages of 500
 * ordered by ("nextDueAt", id), and times in the same run:
 *   (a) raw pg: a hand-written keyset walk on the same pool, one statement per
 *       page, `("nextDueAt", id) > ($2, $3)`, the columns of the repository's
 *       minimal row (src/contacts/keyset/minimal-rows.ts), pg's own row objects;
 *   (b) the repository's walk, streamMinimalContacts(db, { pageSize: 500 }): the
 *       engine's walk (prepared statements, rows in a known shape, no Prisma).
 * Warms up once, then alternates the walks R times (default 5) and prints the
 * medians and the ratio b/a. Both walks must see the same rows in the same
 * order, or the run fails (exit 1).
 *
 * `--variants` adds (b1): the page of (a) as one `prisma.$queryRaw` (the SQL of
 * (a), sent through Prisma's raw path and its result mapping). `--show-sql`
 * prints the statements the repository's walk sends for two pages.
 *
 * PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
 * in a fresh schema dropped at the end. `--pglite` adds an in-memory PGlite run
 * (10,000 contacts by default).
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { streamMinimalContacts } from '../src/contacts/keyset/contact-streams.ts'
import { openDatabase, type Database } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'
import { Prisma } from '../src/generated/prisma/client.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const NOW = new Date('2026-11-25T12:00:00.000Z')
const PAGE_SIZE = 500

function fail(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench:stream -- [--contacts N] [--runs R] [--pglite] [--pglite-contacts N] [--variants] [--show-sql]\n`,
  )
  process.exit(1)
}

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    fail(`--${name} must be a positive integer, got "${text}"`)
  }
  return Number(text)
}

let args
try {
  args = parseArgs({
    options: {
      contacts: { type: 'string' },
      runs: { type: 'string' },
      pglite: { type: 'boolean', default: false },
      'pglite-contacts': { type: 'string' },
      variants: { type: 'boolean', default: false },
      'show-sql': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values
} catch (error) {
  fail((error as Error).message)
}
const options = {
  contacts: positiveInteger('contacts', args.contacts, 100_000),
  runs: positiveInteger('runs', args.runs, 5),
  pglite: args.pglite === true,
  pgliteContacts: positiveInteger('pglite-contacts', args['pglite-contacts'], 10_000),
  variants: args.variants === true,
  showSql: args['show-sql'] === true,
}

/** The minimal row, as every walk produces it. */
interface MinimalRow {
  id: string
  name: string
  lastContactDate: Date | null
  frequencyPreference: string | null
  dunbarCircle: string | null
  nextDueAt: Date
  timezone: string | null
}

/** A way to walk: reads every page and returns the ids in walk order. */
interface Walker {
  name: string
  walk(userId: string): Promise<string[]>
}

type RunQuery = (sql: string, params: unknown[]) => Promise<MinimalRow[]>

/** The columns of the repository's minimal row (src/contacts/keyset/minimal-rows.ts), as plain columns. */
const MINIMAL_COLUMNS = `id, name, "lastContactDate", "frequencyPreference", "dunbarCircle", "nextDueAt", timezone`
const pageSql = (after: boolean) => `
  SELECT ${MINIMAL_COLUMNS} FROM "Contact"
   WHERE "userId" = $1 AND NOT archived${after ? ` AND ("nextDueAt", id) > ($2, $3)` : ''}
   ORDER BY "nextDueAt", id LIMIT ${PAGE_SIZE}`

/** timestamp(3) holds UTC wall-clock time: parse it as UTC, whatever the process's time zone. */
const TIMESTAMP_OID = 1114
function runOnPool(pool: pg.Pool): RunQuery {
  const types = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === TIMESTAMP_OID
        ? (text: string) => new Date(`${text.replace(' ', 'T')}Z`)
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  }
  return async (sql, params) => (await pool.query({ text: sql, values: params, types })).rows as MinimalRow[]
}

/** A hand-written keyset walk over `readPage` (given the last row of the previous page, or nothing). */
async function keysetWalk(readPage: (last: MinimalRow | undefined) => Promise<MinimalRow[]>): Promise<string[]> {
  const ids: string[] = []
  let last: MinimalRow | undefined
  for (;;) {
    const rows = await readPage(last)
    for (const row of rows) ids.push(row.id)
    if (rows.length < PAGE_SIZE) return ids
    last = rows.at(-1)
  }
}

const keysetParams = (userId: string, last: MinimalRow | undefined) =>
  last ? [userId, last.nextDueAt.toISOString(), last.id] : [userId]

/** (a) One statement per page, the row comparison as the keyset condition. */
function rawWalker(run: RunQuery): Walker {
  const first = pageSql(false)
  const next = pageSql(true)
  return {
    name: 'a: raw SQL',
    walk: (userId) => keysetWalk((last) => run(last ? next : first, keysetParams(userId, last))),
  }
}

/** (b) The repository's walk. */
function repositoryWalker(db: Database): Walker {
  return {
    name: 'b: streamMinimalContacts',
    async walk(userId) {
      const ids: string[] = []
      for await (const page of streamMinimalContacts(db, { userId, pageSize: PAGE_SIZE })) {
        for (const row of page.rows) ids.push(row.id)
      }
      return ids
    },
  }
}

/** (b1) The page of (a) as one `prisma.$queryRaw`: Prisma's raw path, without findMany's data mapping. */
function prismaRawWalker(db: Database): Walker {
  return {
    name: 'b1: prisma.$queryRaw page',
    walk: (userId) =>
      keysetWalk((last) =>
        db.prisma.$queryRaw<MinimalRow[]>`
          SELECT id, name, "lastContactDate", "frequencyPreference"::text AS "frequencyPreference",
                 "dunbarCircle"::text AS "dunbarCircle", "nextDueAt", timezone
            FROM "Contact"
           WHERE "userId" = ${userId}::uuid AND NOT archived
                 ${last ? Prisma.sql`AND ("nextDueAt", id) > (${last.nextDueAt}, ${last.id}::uuid)` : Prisma.empty}
           ORDER BY "nextDueAt", id LIMIT ${PAGE_SIZE}`,
      ),
  }
}

function sameOrder(reference: string[], other: string[]): string | undefined {
  if (reference.length !== other.length) return `row counts differ: ${reference.length} vs ${other.length}`
  const at = reference.findIndex((id, index) => id !== other[index])
  return at === -1 ? undefined : `order differs at row ${at}: ${reference[at]} vs ${other[at]}`
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

interface Measurement {
  database: string
  contacts: number
  rows: number
  /** Median seconds per walker, in walker order; the first is (a). */
  medians: { name: string; seconds: number }[]
}

async function measure(database: string, db: Database, walkers: Walker[], contacts: number): Promise<Measurement> {
  const loadStarted = performance.now()
  const { userIds } = await seedBenchUsers(db, { users: 1, contacts, now: NOW, emailPrefix: 'bench-stream' })
  const userId = userIds[0] as string
  process.stderr.write(`${database}: loaded ${contacts} contacts in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`)

  let reference: string[] | undefined
  const timed = async (walker: Walker) => {
    const started = performance.now()
    const ids = await walker.walk(userId)
    const seconds = (performance.now() - started) / 1000
    reference ??= ids
    const mismatch = sameOrder(reference, ids)
    if (mismatch) throw new Error(`${database}: "${walker.name}" disagrees with "${walkers[0]?.name}": ${mismatch}`)
    return seconds
  }
  for (const walker of walkers) await timed(walker) // warm-up: plans, caches, JIT
  const times = walkers.map((): number[] => [])
  for (let run = 0; run < options.runs; run++) {
    for (const [index, walker] of walkers.entries()) times[index]?.push(await timed(walker))
    process.stderr.write(`${database}: run ${run + 1}: ${walkers.map((w, i) => `${w.name} ${times[i]?.at(-1)?.toFixed(3)} s`).join(', ')}\n`)
  }
  return {
    database,
    contacts,
    rows: reference?.length ?? 0,
    medians: walkers.map((walker, index) => ({ name: walker.name, seconds: median(times[index] ?? []) })),
  }
}

async function showPrismaSql(db: Database): Promise<void> {
  const [user] = await db.query<{ id: string }>(`SELECT id FROM "User" WHERE email LIKE 'bench-stream-%' LIMIT 1`)
  if (!user) return
  const statements: string[] = []
  const logged = await openDatabase({ databaseUrl: DATABASE_URL, schema: db.schema, maxConnections: 1, onQuery: (sql) => statements.push(sql) })
  try {
    const pages = streamMinimalContacts(logged, { userId: user.id, pageSize: PAGE_SIZE })
    await pages.next()
    await pages.next()
    await pages.return()
    const short = (sql: string) => sql.replace(/(\$\d+,){3,}\$\d+/g, (list) => `$1..$${list.split(',').length}`)
    process.stdout.write(`\nSQL the repository's walk sent for the first two pages:\n${statements.map((sql) => `  ${short(sql)}`).join('\n')}\n`)
  } finally {
    await logged.close()
  }
}

function table(measurements: Measurement[]): string {
  const header = ['database', 'contacts', 'rows walked', 'walk', 'median (s)', 'vs a']
  const lines = measurements.flatMap((m) =>
    m.medians.map((walk) => [
      m.database,
      m.contacts.toLocaleString('en-US'),
      m.rows.toLocaleString('en-US'),
      walk.name,
      walk.seconds.toFixed(3),
      (walk.seconds / (m.medians[0]?.seconds ?? Number.NaN)).toFixed(2),
    ]),
  )
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] as string).length)))
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ')} |`
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n')
}

const measurements: Measurement[] = []
let exitCode = 0
const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const postgres = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })
try {
  await applyMigrations(postgres)
  const run = runOnPool(postgres.pool as pg.Pool)
  const walkers = [rawWalker(run), repositoryWalker(postgres)]
  if (options.variants) walkers.push(prismaRawWalker(postgres))
  measurements.push(await measure('postgres', postgres, walkers, options.contacts))
  if (options.showSql) await showPrismaSql(postgres)
  if (options.pglite) {
    const pglite = await openDatabase({ dataDir: 'memory://' })
    try {
      await applyMigrations(pglite)
      const runPGlite: RunQuery = (sql, params) => pglite.query<MinimalRow>(sql, params)
      const pgliteWalkers = [rawWalker(runPGlite), repositoryWalker(pglite)]
      if (options.variants) pgliteWalkers.push(prismaRawWalker(pglite))
      measurements.push(await measure('pglite', pglite, pgliteWalkers, options.pgliteContacts))
    } finally {
      await pglite.close()
    }
  }
  const summary = measurements.map((m) => {
    const [a, b] = m.medians
    return `${m.database}: a ${a?.seconds.toFixed(3)} s, b ${b?.seconds.toFixed(3)} s, ratio b/a ${((b?.seconds ?? 0) / (a?.seconds ?? 1)).toFixed(2)}`
  })
  process.stdout.write(
    `\nkeyset walk of one user's non-archived contacts by ("nextDueAt", id), pages of ${PAGE_SIZE}, ` +
      `median of ${options.runs} alternating runs\n${table(measurements)}\n${summary.join('\n')}\n`,
  )
} catch (error) {
  process.stderr.write(`bench:stream failed: ${(error as Error).message}\n`)
  exitCode = 1
} finally {
  await postgres.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await postgres.close().catch(() => {})
}
process.exit(exitCode) // the wasm migration engine leaves timers behind
