/**
 * `npm run bench:imports [-- --contacts N --format vcard|csv --batch B --json]`
 *
 * The contacts import as a user gets it: a generated vCard 3.0 (Apple-like cards) or Google CSV file of N
 * contacts (default 100,000; made while it is sent, never whole) is POSTed to `/import/contacts` of a
 * server in this process (port 0, a bearer token, in-process jobs), and the clock stops when the Import
 * row says SUCCEEDED. Then the same file again (every contact unchanged). Beside them, the floor: the same
 * N contacts, as the rows the import writes, through `COPY "Contact" (...) FROM STDIN` (pg-copy-streams)
 * for another user of the same schema. Prints seconds, contacts/s, the ratio to COPY, the upload's share,
 * and the peak RSS growth of the process (server and client; sampled every 20 ms over the RSS before,
 * after a GC) with the V8 heap's beside it. A run whose counts are not N created, then N unchanged, fails.
 *
 * PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), a fresh schema dropped at
 * the end.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { buildApp } from '../src/app.ts'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { newUuidV7 } from '../src/db/uuid.ts'
import { DEFAULT_BATCH_SIZE } from '../src/imports/run-import.ts'
import { createLogger } from '../src/logger.ts'
import { benchFail, positiveInteger } from './args.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'

function fail(message: string): never {
  return benchFail('npm run bench:imports -- [--contacts N] [--format vcard|csv] [--batch B] [--json]', message)
}

let args
try {
  args = parseArgs({
    options: { contacts: { type: 'string' }, batch: { type: 'string' }, format: { type: 'string', default: 'vcard' }, json: { type: 'boolean', default: false } },
    strict: true,
  }).values
} catch (error) {
  fail((error as Error).message)
}
const contacts = positiveInteger('contacts', args.contacts, 100_000, fail)
const batchSize = positiveInteger('batch', args.batch, DEFAULT_BATCH_SIZE, fail)
if (args.format !== 'vcard' && args.format !== 'csv') fail(`--format must be vcard or csv, got "${args.format}"`)
const format = args.format

const LABELS = ['Friends', 'Family', 'Work', 'Climbing', 'Book Club', 'Neighbours', 'School', 'Football']
const birthdayOf = (i: number) => `19${String(50 + (i % 50))}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`

function vcard(i: number): string {
  return [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:bench-${i}`,
    `FN:Person ${i} Example`,
    `N:Example;Person ${i};;;`,
    `item1.EMAIL;type=INTERNET;type=pref:person${i}@example.com`,
    'item1.X-ABLabel:_$!<Other>!$_',
    `TEL;type=CELL:+49 30 ${String(1_000_000 + i)}`,
    `ADR;type=HOME:;;Street ${i % 500};Berlin;;10115;Germany`,
    `BDAY:${birthdayOf(i)}`,
    `X-SOCIALPROFILE;type=linkedin:https://www.linkedin.com/in/person-${i}`,
    `NOTE:Generated contact number ${i}\\, for the import benchmark.`,
    `CATEGORIES:${LABELS[i % LABELS.length]},${LABELS[(i * 7) % LABELS.length]}`,
    'END:VCARD',
    '',
  ].join('\r\n')
}

const CSV_HEADER = 'First Name,Last Name,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Address 1 - Formatted,Website 1 - Label,Website 1 - Value\r\n'
function csvRow(i: number): string {
  return `Person ${i},Example,${birthdayOf(i)},"Generated contact number ${i}, for the import benchmark.",${LABELS[i % LABELS.length]} ::: * myContacts,* Home,person${i}@example.com,Mobile,+49 30 ${1_000_000 + i},"Street ${i % 500}\nBerlin",Profile,https://www.linkedin.com/in/person-${i}\r\n`
}

/** The file, generated in chunks of about 64 KiB as it is sent. */
function* file(): Generator<Buffer> {
  let text = format === 'csv' ? CSV_HEADER : ''
  for (let i = 0; i < contacts; i++) {
    text += format === 'csv' ? csvRow(i) : vcard(i)
    if (text.length >= 64 * 1024) {
      yield Buffer.from(text)
      text = ''
    }
  }
  if (text) yield Buffer.from(text)
}

/** The columns the floor writes: those an import of these contacts writes. */
const COPY_COLUMNS = `id, "userId", name, email, phone, emails, phones, "matchKeys", "linkedIn", location, "customNotes", birthday, tags, source, "externalId", "importHash", "createdAt", "updatedAt", "nextDueAt"`

/** The same contacts as COPY text rows (tab-separated; arrays as `{...}`; no value here needs escaping), in chunks of about 64 KiB. */
function* copyRows(userId: string, now: string): Generator<string> {
  let text = ''
  for (let i = 0; i < contacts; i++) {
    const email = `person${i}@example.com`
    const phone = `+4930${1_000_000 + i}`
    const tags = [...new Set([LABELS[i % LABELS.length], LABELS[(i * 7) % LABELS.length]])].map((tag) => `"${tag}"`).join(',')
    const row = [
      newUuidV7(),
      userId,
      `Person ${i} Example`,
      email,
      phone,
      `{${email}}`,
      `{${phone}}`,
      `{email:${email},tel:${phone}}`,
      `https://www.linkedin.com/in/person-${i}`,
      `Street ${i % 500}, Berlin, 10115, Germany`,
      `Generated contact number ${i}, for the import benchmark.`,
      birthdayOf(i),
      `{${tags}}`,
      'VCARD',
      `bench-${i}`,
      randomBytes(32).toString('hex'),
      now,
      now,
      now,
    ]
    text += `${row.join('\t')}\n`
    if (text.length >= 64 * 1024) {
      yield text
      text = ''
    }
  }
  if (text) yield text
}

interface Counts {
  created: number
  updated: number
  unchanged: number
  rejected: number
}

interface Sample {
  seconds: number
  /** Of which the upload (until the 202), s. */
  uploadSeconds: number
  /** Peak RSS during the run minus RSS just before it (bytes). */
  rssGrowth: number
  /** Peak V8 heap used during the run minus heap used just before it (bytes): garbage included. */
  heapGrowth: number
  counts: Counts
}

/** Runs `work` while sampling RSS and heap every 20 ms. */
async function sampled(work: () => Promise<{ uploadSeconds: number; counts: Counts }>): Promise<Sample> {
  global.gc?.()
  const before = process.memoryUsage()
  let peak = before.rss
  let peakHeap = before.heapUsed
  const timer = setInterval(() => {
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    peakHeap = Math.max(peakHeap, usage.heapUsed)
  }, 20)
  const started = performance.now()
  try {
    const result = await work()
    return { ...result, seconds: (performance.now() - started) / 1000, rssGrowth: Math.max(0, peak - before.rss), heapGrowth: Math.max(0, peakHeap - before.heapUsed) }
  } finally {
    clearInterval(timer)
  }
}

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })
const copyClient = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path="${schema}"` })
let exitCode = 0
try {
  await applyMigrations(db)
  const userId = (await db.prisma.user.create({ data: { email: 'bench-import@example.com' } })).id
  const floorUserId = (await db.prisma.user.create({ data: { email: 'bench-copy@example.com' } })).id
  const token = await issueToken(db.prisma, userId, 'bench')
  await copyClient.connect()
  const app = buildApp({
    config: { ...parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SECRET_KEY: randomBytes(48).toString('base64url') }), port: 0, host: '127.0.0.1' },
    db,
    logger: createLogger('silent'),
    importRun: { batchSize },
  })
  const origin = new URL((await app.start()).url).origin

  /** POSTs the file, then waits until the Import row has ended. */
  const importFile = async (): Promise<{ uploadSeconds: number; counts: Counts }> => {
    const started = performance.now()
    const response = await fetch(`${origin}/import/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': format === 'csv' ? 'text/csv' : 'text/vcard' },
      body: Readable.toWeb(Readable.from(file())) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit)
    if (response.status !== 202) throw new Error(`upload: HTTP ${response.status} ${await response.text()}`)
    // The answer's id is the GraphQL global id (`Import:<uuid>`, base64).
    const id = Buffer.from(((await response.json()) as { id: string }).id, 'base64').toString('utf8').replace(/^Import:/, '')
    const uploadSeconds = (performance.now() - started) / 1000
    for (;;) {
      const row = await db.prisma.import.findUniqueOrThrow({ where: { id }, select: { status: true, error: true, created: true, updated: true, unchanged: true, rejected: true } })
      if (row.status === 'FAILED') throw new Error(`import failed: ${row.error}`)
      if (row.status === 'SUCCEEDED') return { uploadSeconds, counts: { created: row.created, updated: row.updated, unchanged: row.unchanged, rejected: row.rejected } }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const copy = async () => {
    await pipeline(Readable.from(copyRows(floorUserId, new Date().toISOString())), copyClient.query(copyFrom(`COPY "Contact" (${COPY_COLUMNS}) FROM STDIN`)))
    return { uploadSeconds: 0, counts: { created: contacts, updated: 0, unchanged: 0, rejected: 0 } }
  }

  const floor = await sampled(copy)
  const first = await sampled(importFile)
  const second = await sampled(importFile)
  await app.stop({ graceMs: 100 })
  if (first.counts.created !== contacts || second.counts.unchanged !== contacts) throw new Error(`unexpected counts: ${JSON.stringify({ first: first.counts, second: second.counts })}`)

  const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
  const figures = (sample: Sample) => ({
    seconds: Math.round(sample.seconds * 100) / 100,
    uploadSeconds: Math.round(sample.uploadSeconds * 100) / 100,
    contactsPerSecond: Math.round(contacts / sample.seconds),
    ratioToCopy: Math.round((sample.seconds / floor.seconds) * 10) / 10,
    peakRssGrowthMB: mb(sample.rssGrowth),
    peakHeapGrowthMB: mb(sample.heapGrowth),
    counts: sample.counts,
  })
  const result = {
    date: new Date().toISOString(),
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    format,
    contacts,
    batch: batchSize,
    copy: { seconds: Math.round(floor.seconds * 100) / 100, contactsPerSecond: Math.round(contacts / floor.seconds), peakRssGrowthMB: mb(floor.rssGrowth) },
    import: figures(first),
    reimport: figures(second),
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    const line = (name: string, f: ReturnType<typeof figures>) =>
      `  ${name.padEnd(10)} ${f.seconds} s (upload ${f.uploadSeconds} s)   ${f.contactsPerSecond.toLocaleString('en-US')} contacts/s   ${f.ratioToCopy} x COPY   RSS growth ${f.peakRssGrowthMB} MB (heap ${f.peakHeapGrowthMB} MB)`
    process.stdout.write(
      [
        `contacts import (${format}, ${contacts.toLocaleString('en-US')} contacts, batches of ${batchSize}) through POST /import/contacts into PostgreSQL; load average ${result.loadAverage.join(' ')}`,
        `  COPY       ${result.copy.seconds} s   ${result.copy.contactsPerSecond.toLocaleString('en-US')} contacts/s (the same rows, COPY ... FROM STDIN)`,
        line('import', result.import),
        `${line('re-import', result.reimport)} (all unchanged)`,
        '',
      ].join('\n'),
    )
  }
} catch (error) {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
  exitCode = 1
} finally {
  await copyClient.end().catch(() => {})
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close()
}
process.exit(exitCode)
