/**
 * `npm run bench:dav -- [--cards 2000,20000] [--json]`
 *
 * The CardDAV contacts sync (src/sync/contacts-sync.ts) against a local Radicale (test/helpers/radicale.ts), per
 * card count N, each with its own Radicale and its own PostgreSQL schema:
 *   - seed: N card files written into the address book's folder of Radicale's storage (one PUT of them takes
 *     minutes and can pass fetch's 300 s header timeout; Radicale reads them, and builds its cache, at the warm-up);
 *   - baseline, the floor any client must transfer: one RFC 6578 sync-collection REPORT (no token, DAV:getetag),
 *     then RFC 6352 addressbook-multiget REPORTs of 200 hrefs each, plain `fetch`, bodies read as text and
 *     dropped (one untimed warm-up read first, so neither side pays Radicale's first read of the collection);
 *   - first sync: `syncAddressBook` over `createDavSession` and `createOutboundFetch` (as accounts run it), into
 *     a fresh schema; its time over the baseline's is the ratio; peak RSS and heap growth sampled every 20 ms over
 *     the figures just before (after a forced GC); time per phase from the sync's progress events;
 *   - incremental sync after 10 changes on the server (4 edited, 3 deleted, 3 added, each a single PUT or DELETE):
 *     its requests and time, beside a bare sync-collection REPORT from the same token (Radicale's own time for
 *     the changes, which grows with the collection on its side), so `ownMs` is what the engine adds.
 * With --propfind, a bare PROPFIND Depth 1 of the collection (how the engine lists a collection that offers no
 * sync token) is timed alone beside them.
 * A small address book (50 cards, another user) is synced first in the same process, untimed, so the first
 * measured sync does not pay the code's first run (JIT, Prisma's first queries). A run whose counts are not
 * N created, then 4 updated / 3 removed / 3 created, fails (exit 1).
 *
 * `--timeout-ms`: the engine's request timeout (createOutboundFetch's `timeoutMs`; default 60,000, the brief's).
 * `--json`: one object per card count on stdout (`bench`, `cards`, `baselineMs`, `firstSyncMs`, `ratio`,
 * `peakRssGrowthMb`, `heapGrowthMb`, `incremental: { changes, requests, ms }`, `created`, `radicale`, and more);
 * progress goes to stderr. PostgreSQL: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), a fresh
 * schema per card count, dropped at the end. Radicale: RADICALE_PATH (default /usr/bin/radicale).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { loadavg } from 'node:os'
import { openDatabase } from '../src/db/database.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { createDavSession, type CountedDavSession } from '../src/dav/session.ts'
import { MULTIGET_MAX_HREFS } from '../src/dav/types.ts'
import { createLogger } from '../src/logger.ts'
import { createOutboundFetch } from '../src/net/outbound-fetch.ts'
import { syncAddressBook, type ContactsSyncResult } from '../src/sync/contacts-sync.ts'
import type { SyncProgress } from '../src/sync/types.ts'
import { RADICALE_PATH, startRadicale, type Radicale } from '../test/helpers/radicale.ts'
import { benchArgs, benchFail, positiveInteger, requireGc } from './args.ts'

const USAGE = 'npm run bench:dav -- [--cards 2000,20000] [--timeout-ms 60000] [--propfind] [--json]'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const VCARD = 'text/vcard; charset=utf-8'
const USER = 'alice'
const WARM_UP_CARDS = 50

const fail = (message: string): never => benchFail(USAGE, message)
const args = benchArgs(USAGE, {
  cards: { type: 'string', default: '2000,20000' },
  'timeout-ms': { type: 'string' },
  propfind: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
})
const timeoutMs = positiveInteger('timeout-ms', args['timeout-ms'], 60_000, fail)
const cardCounts = (args.cards ?? '').split(',').map((text) => positiveInteger('cards', text.trim(), 0, fail))
if (cardCounts.some((cards) => cards < 10)) fail('--cards: each count must be at least 10 (the incremental sync edits and deletes 7 of them)')
requireGc(USAGE)
const gc = global.gc as () => void

const progress = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`)
const radicaleVersion = (() => {
  try {
    return execFileSync(RADICALE_PATH, ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return fail(`Radicale is missing at ${RADICALE_PATH} (apt-get install radicale, or set RADICALE_PATH)`)
  }
})()

/** A vCard 3.0 of a few common properties (`version` > 0: an edited card). */
function card(uid: string, i: number, version = 0): string {
  const name = version === 0 ? `Person ${i} Example` : `Person ${i} Edited${version}`
  return [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:${uid}`,
    `FN:${name}`,
    `N:${name.split(' ').at(-1)};${name.split(' ').slice(0, -1).join(' ')};;;`,
    `EMAIL;TYPE=INTERNET:person${i}${version ? `.v${version}` : ''}@example.com`,
    `TEL;TYPE=CELL:+49 30 ${1_000_000 + i}`,
    `ADR;TYPE=HOME:;;Street ${i % 500};Berlin;;10115;Germany`,
    `NOTE:Card number ${i}\\, for the DAV sync benchmark.`,
    'END:VCARD',
    '',
  ].join('\r\n')
}

const cardsFile = (count: number, uidPrefix: string) => Array.from({ length: count }, (_, i) => card(`${uidPrefix}${i}`, i)).join('')

/** The bare reader: a sync-collection REPORT without token, then multigets of 200 hrefs; bodies read and dropped. */
async function bareRead(radicale: Radicale, bookUrl: string, fetch: typeof globalThis.fetch = globalThis.fetch): Promise<{ hrefs: number; requests: number; bytes: number }> {
  const headers = { authorization: radicale.authorization(USER), 'content-type': 'application/xml; charset=utf-8' }
  const listing = await fetch(bookUrl, {
    method: 'REPORT',
    headers: { ...headers, depth: '0' },
    body: '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>',
  })
  const text = await listing.text()
  if (listing.status !== 207) throw new Error(`sync-collection: HTTP ${listing.status}`)
  const bookPath = new URL(bookUrl).pathname
  const hrefs = [...text.matchAll(/<(?:\w+:)?href>([^<]*)<\/(?:\w+:)?href>/g)].map((match) => match[1] as string).filter((href) => href !== bookPath)
  let requests = 1
  let bytes = text.length
  for (let at = 0; at < hrefs.length; at += MULTIGET_MAX_HREFS) {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>' +
      hrefs.slice(at, at + MULTIGET_MAX_HREFS).map((href) => `<D:href>${href}</D:href>`).join('') +
      '</C:addressbook-multiget>'
    const response = await fetch(bookUrl, { method: 'REPORT', headers: { ...headers, depth: '1' }, body })
    const data = await response.text()
    if (response.status !== 207) throw new Error(`addressbook-multiget: HTTP ${response.status}`)
    requests++
    bytes += data.length
  }
  return { hrefs: hrefs.length, requests, bytes }
}

/** A bare sync-collection REPORT from `token` (DAV:getetag), answer read as text; ms. */
async function bareSyncReport(radicale: Radicale, bookUrl: string, token: string): Promise<number> {
  const started = performance.now()
  const response = await fetch(bookUrl, {
    method: 'REPORT',
    headers: { authorization: radicale.authorization(USER), 'content-type': 'application/xml; charset=utf-8', depth: '0' },
    body: `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
  })
  await response.text()
  if (response.status !== 207) throw new Error(`sync-collection from a token: HTTP ${response.status}`)
  return performance.now() - started
}

/** A bare PROPFIND Depth 1 listing (getetag, resourcetype): how the engine lists a collection on a first sync; ms. */
async function barePropfindListing(radicale: Radicale, bookUrl: string): Promise<number> {
  const started = performance.now()
  const response = await fetch(bookUrl, {
    method: 'PROPFIND',
    headers: { authorization: radicale.authorization(USER), 'content-type': 'application/xml; charset=utf-8', depth: '1' },
    body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>',
  })
  await response.text()
  if (response.status !== 207) throw new Error(`PROPFIND: HTTP ${response.status}`)
  return performance.now() - started
}

/** What one card count gives. */
interface Figures {
  bench: 'dav-sync'
  cards: number
  baselineMs: number
  firstSyncMs: number
  ratio: number
  peakRssGrowthMb: number
  heapGrowthMb: number
  /** `reportMs`: a bare sync-collection REPORT from the same token alone; `ownMs`: ms - reportMs. */
  incremental: { changes: 10; requests: number; ms: number; reportMs: number; ownMs: number }
  created: number
  radicale: string
  seedMs: number
  baselineRequests: number
  baselineMb: number
  firstSyncRequests: number
  /** With --propfind: a bare PROPFIND Depth 1 of the collection alone (the engine's listing of a collection without sync tokens; 3 minutes at 20,000 in Radicale); else null. */
  propfindListingMs: number | null
  /** Time of the first sync by the phase its progress events announced (listing, reading: DAV and lookups, writing: the page transactions). */
  firstSyncPhasesMs: Record<SyncProgress['phase'], number>
  date: string
  loadAverage: number[]
}

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1)

async function measure(cards: number): Promise<Figures> {
  const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const [radicale, db] = await Promise.all([startRadicale({ [USER]: 'alice-password' }), openDatabase({ databaseUrl: DATABASE_URL, schema, maxConnections: 4 })])
  try {
    await applyMigrations(db)
    const fetchGuarded = createOutboundFetch({ allowPrivate: true, timeoutMs })
    const logger = createLogger('silent')

    /** A user, an account and an enabled address book on Radicale, and a `sync` of it with a fresh session. */
    const setup = async (name: string) => {
      const bookUrl = await radicale.createAddressBook(USER, name)
      const user = await db.prisma.user.create({ data: { email: `bench-dav-${name}@example.com` } })
      const account = await db.prisma.account.create({ data: { userId: user.id, kind: 'CARDDAV', url: radicale.url, auth: 'BASIC', credentials: 'unused in this bench' } })
      const collection = await db.prisma.accountCollection.create({ data: { accountId: account.id, url: bookUrl, kind: 'ADDRESS_BOOK', enabled: true } })
      const sync = async (onProgress?: (progress: SyncProgress) => void): Promise<{ result: ContactsSyncResult; session: CountedDavSession }> => {
        const row = await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })
        const session = createDavSession({
          credentials: { kind: 'BASIC', username: USER, password: radicale.users[USER] as string },
          fetch: fetchGuarded,
          oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
          now: () => new Date(),
        })
        const result = await syncAddressBook({ prisma: db.prisma, announce: () => {}, logger, now: () => new Date(), onProgress }, { id: account.id, userId: user.id }, row, session)
        return { result, session }
      }
      const syncToken = async () => (await db.prisma.accountCollection.findUniqueOrThrow({ where: { id: collection.id } })).syncToken
      return { bookUrl, sync, syncToken }
    }

    const warmUp = await setup('warm-up')
    await radicale.put(USER, warmUp.bookUrl, cardsFile(WARM_UP_CARDS, 'w'), VCARD)
    await warmUp.sync()

    const book = await setup('book')
    progress(`${cards} cards: seeding Radicale (${cards} files in its storage)`)
    let started = performance.now()
    const folder = radicale.collectionFolder(USER, 'book')
    await mkdir(folder, { recursive: true })
    for (let at = 0; at < cards; at += 500) {
      await Promise.all(Array.from({ length: Math.min(500, cards - at) }, (_, k) => writeFile(path.join(folder, `c${at + k}.vcf`), card(`c${at + k}`, at + k))))
    }
    const seedMs = performance.now() - started

    progress(`${cards} cards: seeded in ${round(seedMs / 1000, 1)} s; bare read (warm-up, then timed)`)
    started = performance.now()
    // Radicale reads and caches every file at this first read: minutes at 20,000 cards on a busy machine, past
    // fetch's 300 s header timeout, so the warm-up goes through the engine's transport with a 30 min timeout.
    await bareRead(radicale, book.bookUrl, createOutboundFetch({ allowPrivate: true, timeoutMs: 30 * 60_000 }))
    progress(`${cards} cards: warm-up read ${round(performance.now() - started)} ms`)
    started = performance.now()
    const bare = await bareRead(radicale, book.bookUrl)
    const baselineMs = performance.now() - started
    if (bare.hrefs !== cards) throw new Error(`the bare read listed ${bare.hrefs} hrefs, not ${cards}`)
    progress(`${cards} cards: baseline ${round(baselineMs)} ms (${bare.requests} requests)`)
    const propfindListingMs = args.propfind ? round(await barePropfindListing(radicale, book.bookUrl)) : null
    progress(`${cards} cards: ${propfindListingMs === null ? '' : `bare PROPFIND ${propfindListingMs} ms; `}first sync`)
    const phases: Record<SyncProgress['phase'], number> = { listing: 0, reading: 0, writing: 0, done: 0 }
    gc()
    const before = process.memoryUsage()
    let peakRss = before.rss
    let peakHeap = before.heapUsed
    const sampler = setInterval(() => {
      const usage = process.memoryUsage()
      peakRss = Math.max(peakRss, usage.rss)
      peakHeap = Math.max(peakHeap, usage.heapUsed)
    }, 20)
    started = performance.now()
    let phase: SyncProgress['phase'] = 'listing'
    let phaseStarted = started
    const first = await book
      .sync((event) => {
        const now = performance.now()
        phases[phase] += now - phaseStarted
        phase = event.phase
        phaseStarted = now
      })
      .finally(() => clearInterval(sampler))
    const firstSyncMs = performance.now() - started
    phases[phase] += performance.now() - phaseStarted
    if (first.result.created !== cards || first.result.rejected !== 0) throw new Error(`first sync: ${JSON.stringify(first.result)}`)

    progress(`${cards} cards: first sync ${round(firstSyncMs)} ms (${first.session.requests} requests); 10 changes, incremental sync`)
    for (let i = 0; i < 4; i++) await radicale.put(USER, `${book.bookUrl}c${i}.vcf`, card(`c${i}`, i, 1), VCARD)
    for (let i = 4; i < 7; i++) await radicale.remove(USER, `${book.bookUrl}c${i}.vcf`)
    for (let i = 0; i < 3; i++) await radicale.put(USER, `${book.bookUrl}n${i}.vcf`, card(`n${i}`, cards + i), VCARD)
    const tokenBefore = await book.syncToken()
    if (tokenBefore === null) throw new Error('the first sync stored no sync token')
    started = performance.now()
    const incremental = await book.sync()
    const incrementalMs = performance.now() - started
    const reportMs = await bareSyncReport(radicale, book.bookUrl, tokenBefore)
    const r = incremental.result
    if (r.updated !== 4 || r.removed !== 3 || r.created !== 3 || r.fullResync) throw new Error(`incremental sync: ${JSON.stringify(r)}`)

    return {
      bench: 'dav-sync',
      cards,
      baselineMs: round(baselineMs),
      firstSyncMs: round(firstSyncMs),
      ratio: round(firstSyncMs / baselineMs, 2),
      peakRssGrowthMb: mb(peakRss - before.rss),
      heapGrowthMb: mb(peakHeap - before.heapUsed),
      incremental: { changes: 10, requests: incremental.session.requests, ms: round(incrementalMs), reportMs: round(reportMs), ownMs: round(incrementalMs - reportMs) },
      created: first.result.created,
      radicale: radicaleVersion,
      seedMs: round(seedMs),
      baselineRequests: bare.requests,
      baselineMb: mb(bare.bytes),
      firstSyncRequests: first.session.requests,
      propfindListingMs,
      firstSyncPhasesMs: { listing: round(phases.listing), reading: round(phases.reading), writing: round(phases.writing), done: round(phases.done) },
      date: new Date().toISOString(),
      loadAverage: loadavg().map((value) => round(value, 2)),
    }
  } finally {
    await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {})
    await Promise.all([db.close().catch(() => {}), radicale.stop().catch(() => {})])
  }
}

function table(rows: Figures[]): string {
  const header = ['cards', 'baseline', 'first sync', 'ratio', 'listing / reading / writing', 'bare PROPFIND', 'RSS growth', 'heap growth', 'incremental (10 changes)']
  const lines = rows.map((f) => [
    f.cards.toLocaleString('en-US'),
    `${(f.baselineMs / 1000).toFixed(2)} s (${f.baselineRequests} req)`,
    `${(f.firstSyncMs / 1000).toFixed(2)} s (${f.firstSyncRequests} req)`,
    f.ratio.toFixed(2),
    `${(f.firstSyncPhasesMs.listing / 1000).toFixed(2)} / ${(f.firstSyncPhasesMs.reading / 1000).toFixed(2)} / ${(f.firstSyncPhasesMs.writing / 1000).toFixed(2)} s`,
    f.propfindListingMs === null ? '-' : `${(f.propfindListingMs / 1000).toFixed(2)} s`,
    `${f.peakRssGrowthMb} MB`,
    `${f.heapGrowthMb} MB`,
    `${f.incremental.requests} requests, ${f.incremental.ms} ms (REPORT alone ${f.incremental.reportMs} ms)`,
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] as string).length)))
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ')} |`
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n')
}

const results: Figures[] = []
let exitCode = 0
try {
  for (const cards of cardCounts) {
    const figures = await measure(cards)
    results.push(figures)
    if (args.json) process.stdout.write(`${JSON.stringify(figures)}\n`)
  }
  if (!args.json) {
    process.stdout.write(
      `CardDAV first and incremental sync against Radicale ${radicaleVersion} into PostgreSQL; baseline: sync-collection + multigets of ${MULTIGET_MAX_HREFS}, plain fetch; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n${table(results)}\n`,
    )
  }
} catch (error) {
  process.stderr.write(`bench:dav failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  exitCode = 1
}
process.exit(exitCode) // the wasm migration engine leaves timers behind
