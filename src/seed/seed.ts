/**
 * Demo and benchmark data: the demo user (about 2,000 contacts, groups, weekly
 * availability and a week of calendar) and bench users with many contacts.
 * Deterministic for a given seed and `now`; the rows come from ./generate.ts
 * and are written by ./bulk-insert.ts (COPY on PostgreSQL).
 */
import { z } from 'zod'
import type { Database } from '../db/database.ts'
import {
  availabilityTable,
  calendarEventTable,
  contactTable,
  groupTable,
  userTable,
  withBulkWriter,
  type BulkWriter,
} from './bulk-insert.ts'
import {
  generateAvailability,
  generateCalendarEvents,
  generateContactChunks,
  generateGroups,
  generateUser,
  type ContactsSpec,
  type SeedGroup,
  type SeedUser,
} from './generate.ts'

export const DEMO_EMAIL = 'demo@example.com'
export const DEMO_USER_NAME = 'Demo User'
export const DEMO_TIMEZONE = 'Europe/Berlin'
export const DEMO_CONTACTS = 2000
/** The seed used when none is given. */
export const DEFAULT_SEED = 1

interface UserSeedSpec {
  seed: number
  email: string
  name: string
  timezone: string
  contacts: number
  now: Date
  /** Called after each chunk of contacts with the number of contacts in it. */
  onContacts?: (count: number) => void
}

export interface SeededUser {
  userId: string
  /** False when a user with this e-mail address already existed (then nothing was written). */
  created: boolean
  /** Contacts written (each with its group ids on the row). */
  contacts: number
}

/**
 * On PostgreSQL, users with at least this many contacts are written by
 * {@link PARALLEL_WRITERS} connections at once, each COPYing its part of the
 * contacts in its own transaction. The server's time goes to the foreign-key
 * trigger and the indexes, one core per backend: measured here for 1M
 * contacts (and a join table then), one connection 52 s + 18 s, two
 * connections 33 s + 11 s (four: no better on two cores).
 */
const PARALLEL_THRESHOLD = 20_000
const PARALLEL_WRITERS = 2

/** Writes the user and what it owns besides contacts; false when the e-mail address is taken. */
async function writeOwner(writer: BulkWriter, owner: { user: SeedUser; groups: SeedGroup[]; spec: UserSeedSpec }): Promise<boolean> {
  const { user, groups, spec } = owner
  if (!(await writer.insertIfAbsent(userTable, user))) return false
  await writer.write(groupTable, [groups])
  await writer.write(availabilityTable, [generateAvailability({ seed: spec.seed, userId: user.id })])
  await writer.write(calendarEventTable, [generateCalendarEvents({ seed: spec.seed, userId: user.id, timezone: spec.timezone, now: spec.now })])
  return true
}

/** Writes one part of the contacts (group ids included); returns how many. */
async function writeContacts(writer: BulkWriter, contactsSpec: ContactsSpec, onContacts: ((count: number) => void) | undefined) {
  function* contactChunks() {
    for (const chunk of generateContactChunks(contactsSpec)) {
      yield chunk
      onContacts?.(chunk.length)
    }
  }
  return writer.write(contactTable, contactChunks())
}

/**
 * Writes one user and everything it owns, unless the e-mail address is
 * taken (then nothing is written). One transaction on PostgreSQL, except for
 * big users written in parallel parts: their owner rows commit first (the
 * parts' foreign keys must see them), and a failed part deletes the user
 * again, as a failure does on PGlite (whose writes are not wrapped).
 */
async function seedUser(db: Database, spec: UserSeedSpec): Promise<SeededUser> {
  const user = generateUser(spec)
  const groups = generateGroups({ seed: spec.seed, userId: user.id, now: spec.now })
  const contactsSpec: ContactsSpec = {
    seed: spec.seed,
    userId: user.id,
    count: spec.contacts,
    groupIds: groups.map((group) => group.id),
    now: spec.now,
  }
  const existing = async (): Promise<SeededUser> => {
    const [found] = await db.query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [spec.email])
    if (!found) throw new Error(`user ${spec.email} vanished while seeding`)
    return { userId: found.id, created: false, contacts: 0 }
  }
  const undo = () => db.query(`DELETE FROM "User" WHERE id = $1`, [user.id]).catch(() => {}) // cascades to the rest

  const parts = db.kind === 'postgres' && spec.contacts >= PARALLEL_THRESHOLD ? PARALLEL_WRITERS : 1
  if (parts === 1) {
    let inserted = false
    try {
      const contacts = await withBulkWriter(db, async (writer) => {
        if (!(await writeOwner(writer, { user, groups, spec }))) return undefined
        inserted = true
        return writeContacts(writer, contactsSpec, spec.onContacts)
      })
      if (contacts === undefined) return existing()
      await countOwnedRows(db, user.id)
      return { userId: user.id, created: true, contacts }
    } catch (error) {
      if (inserted && db.kind === 'pglite') await undo()
      throw error
    }
  }

  if (!(await withBulkWriter(db, (writer) => writeOwner(writer, { user, groups, spec })))) return existing()
  const results = await Promise.allSettled(
    Array.from({ length: parts }, (_, index) =>
      withBulkWriter(db, (writer) => writeContacts(writer, { ...contactsSpec, part: { index, of: parts } }, spec.onContacts)),
    ),
  )
  const failure = results.find((result) => result.status === 'rejected')
  if (failure) {
    await undo()
    throw failure.reason
  }
  let contacts = 0
  for (const result of results) if (result.status === 'fulfilled') contacts += result.value
  await countOwnedRows(db, user.id)
  return { userId: user.id, created: true, contacts }
}

/**
 * Sets the user's quota counters (src/quotas.ts) from the rows the bulk writers
 * inserted around the API: one count per table, once per seeded user.
 */
async function countOwnedRows(db: Database, userId: string): Promise<void> {
  await db.query(
    `UPDATE "User" SET
       "contactCount" = (SELECT count(*) FROM "Contact" WHERE "userId" = $1),
       "groupCount" = (SELECT count(*) FROM "Group" WHERE "userId" = $1),
       "calendarEventCount" = (SELECT count(*) FROM "CalendarEvent" WHERE "userId" = $1)
     WHERE id = $1`,
    [userId],
  )
}

/** Fresh planner statistics after a bulk load (PGlite has no autovacuum; PostgreSQL's would come late). */
async function analyzeSeededTables(db: Database): Promise<void> {
  await db.query(`ANALYZE "User", "Group", "Contact", "Availability", "CalendarEvent"`)
}

export interface DemoSeedOptions {
  now: Date
  seed?: number
  /** Default {@link DEMO_CONTACTS}. */
  contacts?: number
}

/**
 * Creates the demo user ({@link DEMO_EMAIL}, "Demo User", Europe/Berlin) with
 * its contacts, groups, availability (weekday evenings, weekend days) and a
 * week of calendar events after `now`. Does nothing when the demo user
 * exists; `userId` is then the existing user's.
 */
export async function seedDemoData(db: Database, options: DemoSeedOptions): Promise<SeededUser> {
  const result = await seedUser(db, {
    seed: options.seed ?? DEFAULT_SEED,
    email: DEMO_EMAIL,
    name: DEMO_USER_NAME,
    timezone: DEMO_TIMEZONE,
    contacts: options.contacts ?? DEMO_CONTACTS,
    now: options.now,
  })
  if (result.created) await analyzeSeededTables(db)
  return result
}

export interface BenchSeedOptions {
  users: number
  /** Contacts per user. */
  contacts: number
  seed?: number
  now: Date
  /** E-mail addresses are `<prefix>-<i>@example.com`, i = 1..users. Default `bench`. */
  emailPrefix?: string
  /** Contacts written so far, of `total` = users x contacts (skipped users count as done). */
  onProgress?: (done: number, total: number) => void
}

export interface BenchSeedResult {
  /** One per user, in order, whether created now or found. */
  userIds: string[]
  /** Users created now (the others existed already and were left alone). */
  created: number
  contacts: number
}

/** The e-mail address of bench user `index` (1-based). */
export function benchUserEmail(index: number, prefix = 'bench'): string {
  return `${prefix}-${index}@example.com`
}

/** How many bench users, or contacts each: a whole number, zero or more. */
const benchCount = z.int().min(0)

/**
 * Creates `users` bench users with `contacts` contacts each, one user after
 * the other (see seedUser for the transactions; COPY streamed with
 * backpressure: memory stays flat at a million contacts). Users whose e-mail
 * address exists are skipped.
 */
export async function seedBenchUsers(db: Database, options: BenchSeedOptions): Promise<BenchSeedResult> {
  for (const [name, value] of [['users', options.users], ['contacts', options.contacts]] as const) {
    if (!benchCount.safeParse(value).success) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  }
  const total = options.users * options.contacts
  const result: BenchSeedResult = { userIds: [], created: 0, contacts: 0 }
  let done = 0
  options.onProgress?.(0, total)
  for (let index = 1; index <= options.users; index++) {
    const email = benchUserEmail(index, options.emailPrefix)
    const user = await seedUser(db, {
      seed: options.seed ?? DEFAULT_SEED,
      email,
      name: `Bench User ${index}`,
      timezone: 'Europe/Berlin',
      contacts: options.contacts,
      now: options.now,
      onContacts: (count) => {
        done += count
        options.onProgress?.(done, total)
      },
    })
    if (!user.created) {
      done += options.contacts
      options.onProgress?.(done, total)
    }
    result.userIds.push(user.userId)
    result.created += user.created ? 1 : 0
    result.contacts += user.contacts
  }
  if (result.created > 0) await analyzeSeededTables(db)
  return result
}
