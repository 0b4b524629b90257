/**
 * Demo and benchmark data: the demo user (about 2,000 contacts, groups, weekly
 * availability and a week of calendar) and bench users with many contacts.
 * Deterministic for a given seed and `now`; the rows come from ./generate.ts
 * and are written by ./bulk-insert.ts (COPY on PostgreSQL).
 */
import type { Database } from '../database.ts'
import {
  availabilityTable,
  calendarEventTable,
  contactGroupTable,
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
  generateMembershipChunks,
  generateUser,
  type ContactsSpec,
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
  /** Rows written: contacts and their group memberships ("ContactGroup"). */
  contacts: number
  memberships: number
}

/** Contacts per chunk: each becomes one write to the COPY stream; small chunks die young (see ContactsSpec.chunkSize). */
const CHUNK_SIZE = 1000

/** Writes one user and everything it owns through `writer`, unless the e-mail address is taken. */
async function seedUser(writer: BulkWriter, spec: UserSeedSpec): Promise<SeededUser> {
  const user = generateUser(spec)
  if (!(await writer.insertIfAbsent(userTable, user, 'email'))) {
    const [existing] = await writer.query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [spec.email])
    if (!existing) throw new Error(`user ${spec.email} vanished while seeding`)
    return { userId: existing.id, created: false, contacts: 0, memberships: 0 }
  }
  try {
    const groups = generateGroups({ seed: spec.seed, userId: user.id, now: spec.now })
    await writer.write(groupTable, [groups])
    await writer.write(availabilityTable, [generateAvailability({ seed: spec.seed, userId: user.id })])
    await writer.write(calendarEventTable, [
      generateCalendarEvents({ seed: spec.seed, userId: user.id, timezone: spec.timezone, now: spec.now }),
    ])
    const contactsSpec: ContactsSpec = {
      seed: spec.seed,
      userId: user.id,
      count: spec.contacts,
      groupIds: groups.map((group) => group.id),
      now: spec.now,
      chunkSize: CHUNK_SIZE,
    }
    const { onContacts } = spec
    function* contactChunks() {
      for (const chunk of generateContactChunks(contactsSpec)) {
        yield chunk.contacts
        onContacts?.(chunk.contacts.length)
      }
    }
    const contacts = await writer.write(contactTable, contactChunks())
    // A second pass for the memberships: their rows are regenerated (cheaply) instead of kept.
    const memberships = await writer.write(contactGroupTable, generateMembershipChunks(contactsSpec))
    return { userId: user.id, created: true, contacts, memberships }
  } catch (error) {
    // PostgreSQL rolls the transaction back; PGlite's writes are not wrapped, so undo them (the cascade takes the rest).
    if (writer.kind === 'pglite') await writer.query(`DELETE FROM "User" WHERE id = $1`, [user.id]).catch(() => {})
    throw error
  }
}

/** Fresh planner statistics after a bulk load (PGlite has no autovacuum; PostgreSQL's would come late). */
async function analyzeSeededTables(db: Database): Promise<void> {
  await db.query(`ANALYZE "User", "Group", "Contact", "ContactGroup", "Availability", "CalendarEvent"`)
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
  const result = await withBulkWriter(db, (writer) =>
    seedUser(writer, {
      seed: options.seed ?? DEFAULT_SEED,
      email: DEMO_EMAIL,
      name: DEMO_USER_NAME,
      timezone: DEMO_TIMEZONE,
      contacts: options.contacts ?? DEMO_CONTACTS,
      now: options.now,
    }),
  )
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
  memberships: number
}

/** The e-mail address of bench user `index` (1-based). */
export function benchUserEmail(index: number, prefix = 'bench'): string {
  return `${prefix}-${index}@example.com`
}

/**
 * Creates `users` bench users with `contacts` contacts each, one transaction
 * per user on PostgreSQL (COPY streamed with backpressure: memory stays flat
 * at a million contacts). Users whose e-mail address exists are skipped.
 */
export async function seedBenchUsers(db: Database, options: BenchSeedOptions): Promise<BenchSeedResult> {
  for (const [name, value] of [['users', options.users], ['contacts', options.contacts]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  }
  const total = options.users * options.contacts
  const result: BenchSeedResult = { userIds: [], created: 0, contacts: 0, memberships: 0 }
  let done = 0
  options.onProgress?.(0, total)
  for (let index = 1; index <= options.users; index++) {
    const email = benchUserEmail(index, options.emailPrefix)
    const user = await withBulkWriter(db, (writer) =>
      seedUser(writer, {
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
      }),
    )
    if (!user.created) {
      done += options.contacts
      options.onProgress?.(done, total)
    }
    result.userIds.push(user.userId)
    result.created += user.created ? 1 : 0
    result.contacts += user.contacts
    result.memberships += user.memberships
  }
  if (result.created > 0) await analyzeSeededTables(db)
  return result
}
