/**
 * `npm run db:seed`: seeds the demo user (demo@example.com) into the configured
 * database (PGlite under DATA_DIR, or DATABASE_URL), after applying pending
 * migrations. Does nothing when the demo user exists.
 *
 * `npm run db:seed -- --users M --contacts N [--seed S]`: bench users
 * bench-1@example.com ... bench-M@example.com with N contacts each (users that
 * exist are skipped). `--seed S` picks the random seed of either.
 */
import { parseArgs } from 'node:util'
import { SingleBar } from 'cli-progress'
import { z } from 'zod'
import { loadConfigOrExit } from '../config.ts'
import { applyMigrations } from '../db/migrate.ts'
import { openConfiguredDatabase } from '../db/open-configured.ts'
import { DEFAULT_SEED, DEMO_EMAIL, seedBenchUsers, seedDemoData } from '../seed/seed.ts'
import { databaseFailure, exitWith } from '../failure.ts'
import { createLogger } from '../logger.ts'
import { SECOND_MS } from '../time.ts'
import { intBetween } from '../validation.ts'

const USAGE = `usage:
  npm run db:seed [-- --seed S]                           seed the demo user (${DEMO_EMAIL})
  npm run db:seed -- --users M --contacts N [--seed S]    seed M bench users with N contacts each
options:
  --users M      bench users to create (1..10000), bench-1@example.com ... bench-M@example.com
  --contacts N   contacts per bench user (0..10000000)
  --seed S       random seed, a non-negative integer (default ${DEFAULT_SEED})
`

function usageError(message: string): never {
  process.stderr.write(`db:seed: ${message}\n${USAGE}`)
  process.exit(1)
}

function integerOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  // Digits only: Number() would also take "", " 7", "1e3" and "0x10".
  const parsed = z.string().regex(/^\d+$/).transform(Number).pipe(intBetween(min, max)).safeParse(text)
  if (!parsed.success) usageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`)
  return parsed.data
}

function parseCommandLine() {
  let values
  try {
    values = parseArgs({
      options: {
        users: { type: 'string' },
        contacts: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (error) {
    usageError((error as Error).message)
  }
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const users = integerOption('users', values.users, 1, 10_000)
  const contacts = integerOption('contacts', values.contacts, 0, 10_000_000)
  const seed = integerOption('seed', values.seed, 0, 2 ** 31 - 1) ?? DEFAULT_SEED
  if ((users === undefined) !== (contacts === undefined)) usageError('--users and --contacts go together')
  return { users, contacts, seed }
}

const options = parseCommandLine()
const config = loadConfigOrExit()
const logger = createLogger(config.logLevel)
const db = await openConfiguredDatabase(config).catch((error: unknown) => exitWith(databaseFailure(config.databaseUrl, 'open the database', error)))
const mode = options.users !== undefined && options.contacts !== undefined ? 'bench' : 'demo'

function summary(what: string, contacts: number, seconds: number): string {
  const perSecond = seconds > 0 ? Math.round(contacts / seconds).toLocaleString('en-US') : '-'
  return `${what}: ${contacts.toLocaleString('en-US')} contacts in ${seconds.toFixed(1)} s (${perSecond} contacts/s, ${db.kind})\n`
}

let exitCode = 0
try {
  const applied = await applyMigrations(db)
  if (applied.length > 0) logger.info({ applied }, 'migrations applied')
  const now = new Date()
  const started = performance.now()
  if (mode === 'demo') {
    const result = await seedDemoData(db, { now, seed: options.seed })
    const seconds = (performance.now() - started) / SECOND_MS
    process.stdout.write(
      result.created
        ? summary(`seeded ${DEMO_EMAIL}`, result.contacts, seconds)
        : `${DEMO_EMAIL} exists already (user ${result.userId}); nothing seeded\n`,
    )
  } else {
    const bar = process.stdout.isTTY
      ? new SingleBar({ format: 'contacts [{bar}] {percentage}% | {value}/{total} | {duration}s', hideCursor: true })
      : undefined
    let barStarted = false
    const result = await seedBenchUsers(db, {
      users: options.users as number,
      contacts: options.contacts as number,
      seed: options.seed,
      now,
      onProgress: (done, total) => {
        if (!bar) return
        if (!barStarted) {
          bar.start(total, done)
          barStarted = true
        } else bar.update(done)
      },
    })
    bar?.stop()
    const seconds = (performance.now() - started) / SECOND_MS
    const skipped = result.userIds.length - result.created
    if (skipped > 0) process.stdout.write(`${skipped} of ${result.userIds.length} bench users existed already and were left alone\n`)
    process.stdout.write(summary(`seeded ${result.created} bench users`, result.contacts, seconds))
  }
} catch (error) {
  process.stderr.write(`${databaseFailure(config.databaseUrl, 'seed', error)}\n`)
  exitCode = 1
} finally {
  await db.close().catch(() => {})
}
process.exit(exitCode) // the wasm migration engine leaves timers behind
