/**
 * `npm run bench:exports [-- --contacts N --runs R --json]`
 *
 * Export of one user's contacts (1,000,000 by default) through the real routes,
 * `GET /export/contacts.vcf` and `GET /export/contacts.csv` (a server of this
 * process on port 0, a bearer token, the body read and counted as it arrives),
 * beside a raw `COPY (SELECT <the same columns> FROM "Contact" WHERE "userId" = ...
 * ORDER BY id) TO STDOUT` of the same rows through pg-copy-streams: the floor of
 * getting those rows out of PostgreSQL. Prints seconds (median of R runs,
 * default 1), bytes, contacts/s, the ratio to COPY, and the peak RSS growth during
 * each export (sampled every 20 ms over the RSS before it; goal ≤ 40 MB: the walk
 * holds one page of 1,000 rows), with the V8 heap's growth beside it. Every export must carry every contact, or the run fails.
 *
 * PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), a
 * fresh schema loaded by the COPY seeder (seedBenchUsers) and dropped at the end.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { buildApp } from '../src/app.ts'
import { issueToken } from '../src/auth/tokens.ts'
import { parseConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { createLogger } from '../src/logger.ts'
import { seedBenchUsers } from '../src/seed/seed.ts'
import { benchFail, positiveInteger } from './args.ts'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const NOW = new Date('2026-11-25T12:00:00.000Z')

function fail(message: string): never {
  return benchFail('npm run bench:exports -- [--contacts N] [--runs R] [--json]', message)
}

let args
try {
  args = parseArgs({ options: { contacts: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false }).values
} catch (error) {
  fail((error as Error).message)
}
const contacts = positiveInteger('contacts', args.contacts, 1_000_000, fail)
const runs = positiveInteger('runs', args.runs, 1, fail)
const json = args.json === true

/** The columns an export reads (src/exports/export-streams.ts, readExportPage). */
const EXPORT_COLUMNS = `id, name, email, phone, emails, phones, "linkedIn", instagram, "xHandle", "otherSocialMedia", location, timezone, "customNotes", tags, "groupIds", birthday, "externalId"`

interface Sample {
  seconds: number
  bytes: number
  /** Peak RSS during the run minus RSS just before it (bytes). */
  rssGrowth: number
  /** Body lines that start a record (cards, CSV rows after the header, COPY lines). */
  records: number
  /** CPU time of this process (server and client), s: steadier than wall time on a shared machine. */
  cpuSeconds: number
  /** Peak V8 heap used during the run minus heap used just before it (bytes): RSS growth that is not heap is buffers or unreturned pages. */
  heapGrowth: number
}

/** Runs `work` while sampling RSS every 20 ms. */
async function sampled(work: () => Promise<{ bytes: number; records: number }>): Promise<Sample> {
  global.gc?.()
  const before = process.memoryUsage.rss()
  const heapBefore = process.memoryUsage().heapUsed
  let peak = before
  let peakHeap = heapBefore
  const timer = setInterval(() => {
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    peakHeap = Math.max(peakHeap, usage.heapUsed)
  }, 20)
  const started = performance.now()
  const cpu = process.cpuUsage()
  try {
    const { bytes, records } = await work()
    const used = process.cpuUsage(cpu)
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, heapGrowth: peakHeap - heapBefore, bytes, records, rssGrowth: Math.max(0, Math.max(peak, process.memoryUsage.rss()) - before) }
  } finally {
    clearInterval(timer)
  }
}

/** Counts occurrences of `needle` across chunk boundaries. */
function counter(needle: string) {
  let count = 0
  let tail = ''
  return {
    add(chunk: string) {
      const text = tail + chunk
      let at = text.indexOf(needle)
      while (at !== -1) {
        count++
        at = text.indexOf(needle, at + needle.length)
      }
      tail = text.slice(-(needle.length - 1))
    },
    get count() {
      return count
    },
  }
}

/** GETs `url` and reads the body as it arrives, counting bytes and records. */
function download(url: string, token: string, recordStart: string): Promise<{ bytes: number; records: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode}`))
      let bytes = 0
      const records = counter(recordStart)
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        bytes += Buffer.byteLength(chunk)
        records.add(chunk)
      })
      res.on('end', () => resolve({ bytes, records: records.count }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The raw floor: COPY of the same rows and columns to this process, counted. */
async function copyOut(client: pg.Client, userId: string): Promise<{ bytes: number; records: number }> {
  const stream = client.query(copyTo(`COPY (SELECT ${EXPORT_COLUMNS} FROM "Contact" WHERE "userId" = '${userId}' ORDER BY id) TO STDOUT`))
  let bytes = 0
  let records = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) records++
  }
  return { bytes, records }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const mb = (bytes: number) => bytes / 1024 / 1024

const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const db = await openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })
const copyClient = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path="${schema}"` })
let exitCode = 0
try {
  await applyMigrations(db)
  const loadStarted = performance.now()
  const { userIds } = await seedBenchUsers(db, { users: 1, contacts, now: NOW, emailPrefix: 'bench-exports' })
  const userId = userIds[0]!
  process.stderr.write(`loaded ${contacts.toLocaleString('en-US')} contacts in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`)
  const token = await issueToken(db.prisma, userId, 'bench')
  await copyClient.connect()
  const app = buildApp({
    config: { ...parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SECRET_KEY: randomBytes(48).toString('base64url') }), port: 0, host: '127.0.0.1' },
    db,
    logger: createLogger('silent'),
  })
  const origin = new URL((await app.start()).url).origin
  const ways = {
    copy: () => copyOut(copyClient, userId),
    vcard: () => download(`${origin}/export/contacts.vcf`, token, 'BEGIN:VCARD'),
    // Records: every row carries the label of its UID custom field (the header only names the column).
    csv: () => download(`${origin}/export/contacts.csv`, token, ',UID,'),
  }
  const samples: Record<keyof typeof ways, Sample[]> = { copy: [], vcard: [], csv: [] }
  // One warm-up of each (plans, JIT, the buffer cache), then the runs alternate.
  for (const work of Object.values(ways)) await work()
  for (let run = 0; run < runs; run++) {
    for (const [name, work] of Object.entries(ways) as [keyof typeof ways, () => Promise<{ bytes: number; records: number }>][]) {
      const sample = await sampled(work)
      if (sample.records !== contacts) throw new Error(`${name}: ${sample.records} records, expected ${contacts}`)
      samples[name].push(sample)
    }
  }
  await app.stop({ graceMs: 100 })
  const summary = Object.fromEntries(
    (Object.keys(ways) as (keyof typeof ways)[]).map((name) => {
      const seconds = median(samples[name].map((s) => s.seconds))
      return [
        name,
        {
          seconds,
          cpuSeconds: median(samples[name].map((s) => s.cpuSeconds)),
          bytes: samples[name][0]!.bytes,
          contactsPerSecond: Math.round(contacts / seconds),
          ratioToCopy: seconds / median(samples.copy.map((s) => s.seconds)),
          peakRssGrowthMB: Math.max(...samples[name].map((s) => mb(s.rssGrowth))),
          peakHeapGrowthMB: Math.max(...samples[name].map((s) => mb(s.heapGrowth))),
        },
      ]
    }),
  ) as Record<keyof typeof ways, { seconds: number; cpuSeconds: number; bytes: number; contactsPerSecond: number; ratioToCopy: number; peakRssGrowthMB: number; peakHeapGrowthMB: number }>
  const result = { contacts, runs, date: new Date().toISOString(), loadAverage: (await import('node:os')).loadavg(), ...summary }
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    const row = (label: string, s: (typeof summary)['copy']) =>
      `  ${label.padEnd(30)} ${s.seconds.toFixed(2).padStart(7)} s (CPU here ${s.cpuSeconds.toFixed(2)} s)  ${mb(s.bytes).toFixed(0).padStart(5)} MB  ${s.contactsPerSecond.toLocaleString('en-US').padStart(9)}/s  x${s.ratioToCopy.toFixed(2).padStart(5)}  RSS +${s.peakRssGrowthMB.toFixed(1)} MB (heap +${s.peakHeapGrowthMB.toFixed(1)} MB)`
    process.stdout.write(
      [
        `export of ${contacts.toLocaleString('en-US')} contacts (PostgreSQL, schema ${schema}, median of ${runs}; load average ${result.loadAverage.map((l) => l.toFixed(1)).join(' ')})`,
        row('COPY (SELECT ...) TO STDOUT', summary.copy),
        row('GET /export/contacts.vcf', summary.vcard),
        row('GET /export/contacts.csv', summary.csv),
      ].join('\n') + '\n',
    )
  }
} catch (error) {
  process.stderr.write(`bench:exports failed: ${(error as Error).stack ?? String(error)}\n`)
  exitCode = 1
} finally {
  await copyClient.end().catch(() => {})
  await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
  await db.close().catch(() => {})
}
process.exit(exitCode)
