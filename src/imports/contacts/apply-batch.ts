/**
 * Writes a batch of imported contacts in ONE transaction (a failure leaves nothing of the batch), without
 * duplicates and idempotently:
 *
 * - a record is matched to an existing contact of the user by its external id (a card's UID, a row's
 *   hash), else by a contact id equal to it (our own export's UID), else by any of its e-mails
 *   (`email:<lower case>`), else by any of its phones (`tel:<E.164>`, or `tel:<digits>` for a local number
 *   without country); records of one batch that share any of these (two cards of one person) are merged
 *   first, except a record whose UID names a contact, which stays that contact's;
 * - no match: the contact is created (createMany), with its `nextDueAt` (cadence.ts: due from now) and a
 *   unit of the contacts quota each; past the quota the rest are Rejected (QUOTA_EXCEEDED);
 * - a match: only imported fields change: name, the e-mails and phones (the union, the first stays
 *   primary), the social profiles, location, time zone, birthday, anniversary, tags and groups (unions), the external
 *   id when it had none, and `customNotes` only when it had none. Never the circle, frequency,
 *   lastContactDate or the user's notes. When the record's hash (`importHash`, sha256 of the mapped
 *   fields) is the one stored, or nothing would change, it is `unchanged` and nothing is written.
 * - Labels become groups (created when missing, within the groups quota) and tags. A contact put in a
 *   group with a default cadence, and without a frequency of its own, takes that cadence
 *   (contacts/inherited-cadence.ts), in the batch's transaction.
 *
 * Nothing is announced: the import job announces once per import (or per few seconds).
 */
import { createHash } from 'node:crypto'
import type { CountryCode } from 'libphonenumber-js'
import { DEFAULT_QUOTAS } from '../../config.ts'
import { computeNextDueAt } from '../../contacts/cadence.ts'
import { recomputeInheritedCadence } from '../../contacts/inherited-cadence.ts'
import { isUuid, newUuidV7 } from '../../db/uuid.ts'
import type { PrismaClient } from '../../generated/prisma/client.ts'
import { quotaExceeded, takeQuotaUpTo } from '../../quotas.ts'
import { MINUTE_MS, SECOND_MS } from '../../time.ts'
import type { DroppedField, ImportCounts, ImportedContact, Rejected } from '../types.ts'
import { emailKey, phoneKey } from '../../contacts/match-keys.ts'
import { CONTACT_LIMITS } from './mapping.ts'

/** Rows per INSERT or UPDATE statement. */
const CREATE_CHUNK = 500

/** Options of {@link applyContactBatch}. */
export interface ApplyContactBatchOptions {
  /** The user's quota of contacts (MAX_CONTACTS_PER_USER). */
  maxContacts: number
  /** The user's quota of groups (MAX_GROUPS_PER_USER); default DEFAULT_QUOTAS.groups. */
  maxGroups?: number
  /** The country of numbers written without one (`030 1234567`): their key is E.164 too. Default: none (digits). */
  defaultCountry?: CountryCode
}

/** What a batch did: counts per record, the records refused, and the optional fields left out. */
export interface ContactBatchResult {
  counts: ImportCounts
  /** Records not written (QUOTA_EXCEEDED); the reader's own rejections are the job's to count. */
  rejected: Rejected[]
  /** Fields left out of written records (the reader's `dropped`, and labels past the groups quota), with the record's position. */
  dropped: (DroppedField & { position: number })[]
}

/** The fields an import writes, merged over the records of one person in the batch. */
interface Merged
  extends Pick<
    ImportedContact,
    'name' | 'emails' | 'phones' | 'linkedIn' | 'instagram' | 'xHandle' | 'otherSocialMedia' | 'location' | 'timezone' | 'customNotes' | 'birthday' | 'groups' | 'source'
  > {
  anniversary: string | null
  records: ImportedContact[]
  externalIds: string[]
  matchKeys: string[]
}

/** What an update compares and merges: the imported columns of the contacts a batch finds. */
interface Existing {
  id: string
  externalId: string | null
  name: string
  email: string | null
  phone: string | null
  emails: string[]
  phones: string[]
  matchKeys: string[]
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  otherSocialMedia: unknown
  location: string | null
  timezone: string | null
  customNotes: string | null
  birthday: string | null
  anniversary: string | null
  tags: string[]
  groupIds: string[]
  importHash: string | null
}

/**
 * The user's contacts ($1) with one of the external ids ($2), whose own id is one of them ($4: an export
 * writes a contact without external id with its id as UID, so re-importing it finds the contact), or sharing
 * a match key ($3), in id order (the first found wins). Each external id is one probe of the unique
 * (userId, externalId) index: as
 * `"externalId" = ANY($2)`, past ~30,000 contacts PostgreSQL took the (userId, googleResourceName) index (now (accountId, remoteHref)) and
 * filtered every contact of the user (170 ms a batch and growing; OFFSET 0 keeps it from becoming a join). Each key is one probe of the GIN index on matchKeys (`@> ARRAY[key]`, fenced by
 * OFFSET 0 so the planner cannot swap it for the user's btree index): `"matchKeys" && $3` with the user's
 * 1,000-2,000 keys made PostgreSQL filter every contact of the user (2.5 s a batch at 20,000 contacts,
 * linear in them). A probe is fast only when the GIN index has no pending list: `fastupdate = off` (see the report).
 */
const LOOKUP_IDS_SQL = `SELECT x.id FROM unnest($2::text[]) AS e(ext)
  CROSS JOIN LATERAL (SELECT c.id FROM "Contact" c WHERE c."userId" = $1::uuid AND c."externalId" = e.ext OFFSET 0) x
  UNION
  SELECT c.id FROM "Contact" c WHERE c.id = ANY($4::uuid[]) AND c."userId" = $1::uuid
  UNION
  SELECT x.id FROM unnest($3::text[]) AS k(key)
  CROSS JOIN LATERAL (SELECT c.id, c."userId" FROM "Contact" c WHERE c."matchKeys" @> ARRAY[k.key] OFFSET 0) x
  WHERE x."userId" = $1::uuid`

/** Then those rows by primary key ($1 the ids; `id IN (subquery)` was planned as a scan of the whole table). */
const LOOKUP_SQL = `SELECT id::text, "externalId", name, email, phone, emails, phones, "matchKeys", "linkedIn", instagram, "xHandle",
  "otherSocialMedia", location, timezone, "customNotes", birthday, anniversary, tags, "groupIds"::text[] AS "groupIds", "importHash"
FROM "Contact" WHERE id = ANY($1::uuid[]) ORDER BY id`

function unionEmails(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base]
  const seen = new Set(base.map((email) => email.toLowerCase()))
  for (const email of extra) {
    if (out.length >= CONTACT_LIMITS.emails) break
    if (!seen.has(email.toLowerCase())) {
      seen.add(email.toLowerCase())
      out.push(email)
    }
  }
  return out
}

function union(base: readonly string[], extra: readonly string[], max: number): string[] {
  const out = [...base]
  for (const value of extra) {
    if (out.length >= max) break
    if (!out.includes(value)) out.push(value)
  }
  return out
}

function mergeSocial(base: Record<string, string> | null, extra: Record<string, string> | null): Record<string, string> | null {
  if (!extra) return base
  const out: Record<string, string> = { ...(base ?? {}) }
  for (const [label, url] of Object.entries(extra)) {
    if (Object.values(out).includes(url)) continue
    if (label in out || Object.keys(out).length < CONTACT_LIMITS.otherSocialMedia) out[label] = url
  }
  return out
}

/**
 * matchKeysOf (contacts/match-keys.ts) with each phone parsed once per batch: libphonenumber-js took a
 * third of a batch's time when every record's phones were parsed two or three times.
 */
class KeyMaker {
  private readonly phones = new Map<string, string | null>()
  constructor(private readonly defaultCountry?: CountryCode) {}
  keys(emails: readonly string[], phones: readonly string[]): string[] {
    const keys = new Set<string>()
    for (const email of emails) keys.add(emailKey(email))
    for (const phone of phones) {
      let key = this.phones.get(phone)
      if (key === undefined) {
        key = phoneKey(phone, this.defaultCountry)
        this.phones.set(phone, key)
      }
      if (key) keys.add(key)
    }
    return [...keys]
  }
}

/** The records of one person, merged: the first's scalars, the unions of the lists. */
function merge(records: ImportedContact[], keyMaker: KeyMaker): Merged {
  const [first, ...rest] = records
  const merged: Merged = {
    records,
    externalIds: [first!.externalId],
    name: first!.name,
    emails: [...first!.emails],
    phones: [...first!.phones],
    linkedIn: first!.linkedIn,
    instagram: first!.instagram,
    xHandle: first!.xHandle,
    otherSocialMedia: first!.otherSocialMedia,
    location: first!.location,
    timezone: first!.timezone,
    customNotes: first!.customNotes,
    birthday: first!.birthday,
    anniversary: first!.anniversary ?? null,
    groups: [...first!.groups],
    source: first!.source,
    matchKeys: [],
  }
  for (const record of rest) {
    if (!merged.externalIds.includes(record.externalId)) merged.externalIds.push(record.externalId)
    merged.emails = unionEmails(merged.emails, record.emails)
    merged.phones = union(merged.phones, record.phones, CONTACT_LIMITS.phones)
    merged.linkedIn ??= record.linkedIn
    merged.instagram ??= record.instagram
    merged.xHandle ??= record.xHandle
    merged.otherSocialMedia = mergeSocial(merged.otherSocialMedia, record.otherSocialMedia)
    merged.location ??= record.location
    merged.timezone ??= record.timezone
    merged.customNotes ??= record.customNotes
    merged.birthday ??= record.birthday
    merged.anniversary ??= record.anniversary ?? null
    merged.groups = union(merged.groups, record.groups, CONTACT_LIMITS.tags)
  }
  merged.matchKeys = keyMaker.keys(merged.emails, merged.phones)
  return merged
}

/** sha256 of the mapped fields: the same record again has the same hash. */
export function importHashOf(merged: Omit<Merged, 'records' | 'matchKeys'>): string {
  const { externalIds, name, emails, phones, linkedIn, instagram, xHandle, otherSocialMedia, location, timezone, customNotes, birthday, groups, source } = merged
  const fields = { externalIds, name, emails, phones, linkedIn, instagram, xHandle, otherSocialMedia, location, timezone, customNotes, birthday, groups, source }
  // The anniversary only when there is one: a record without keeps the hash it had before anniversaries were read.
  if (merged.anniversary) Object.assign(fields, { anniversary: merged.anniversary })
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex')
}

/** Groups of record indexes that share an external id or a match key (union-find). */
function groupRecords(records: ImportedContact[], keysOf: (record: ImportedContact) => string[]): number[][] {
  const parent = records.map((_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  const owner = new Map<string, number>()
  records.forEach((record, i) => {
    for (const key of keysOf(record)) {
      const other = owner.get(key)
      if (other === undefined) owner.set(key, i)
      else {
        const a = find(other)
        const b = find(i)
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
      }
    }
  })
  const groups = new Map<number, number[]>()
  records.forEach((_, i) => {
    const root = find(i)
    const group = groups.get(root)
    if (group) group.push(i)
    else groups.set(root, [i])
  })
  return [...groups.values()]
}

/** JSON with object keys sorted: jsonb gives an object's keys back in its own order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  )
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

/**
 * Applies one batch of imported contacts for `userId` in one transaction (see the module comment).
 *
 * @param records the batch (the reader's contacts; its Rejected records are not passed here), ~500-1000.
 * @param now the time of the import: `createdAt` and `nextDueAt` (due from now) of created contacts.
 * @returns per-record counts (`created` / `updated` / `unchanged` / `rejected` add up to `records.length`;
 *   a record merged into another of the batch counts as `updated`, or `unchanged` with it), the records
 *   refused for the quota, and the optional fields left out.
 * @throws whatever the database throws: the transaction is rolled back, nothing of the batch is written.
 */
export async function applyContactBatch(
  { prisma }: { prisma: PrismaClient },
  userId: string,
  records: ImportedContact[],
  now: Date,
  options: ApplyContactBatchOptions,
): Promise<ContactBatchResult> {
  const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 }
  const rejected: Rejected[] = []
  const dropped: ContactBatchResult['dropped'] = []
  for (const record of records) for (const field of record.dropped ?? []) dropped.push({ ...field, position: record.position })
  if (records.length === 0) return { counts, rejected, dropped }

  const keysOfRecord = new Map<ImportedContact, string[]>()
  const keyMaker = new KeyMaker(options.defaultCountry)
  for (const record of records) keysOfRecord.set(record, keyMaker.keys(record.emails, record.phones))
  const externalIds = [...new Set(records.map((record) => record.externalId))]
  const matchKeys = [...new Set(records.flatMap((record) => keysOfRecord.get(record)!))]

  await prisma.$transaction(
    async (tx) => {
      // Batches of one user (two imports at once) run one after the other: each sees the contacts the other created.
      await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
      // Raw SQL: Prisma's findMany of the same 1,000 rows took four times as long (mapping its result).
      const ids = await tx.$queryRawUnsafe<{ id: string }[]>(LOOKUP_IDS_SQL, userId, externalIds, matchKeys, externalIds.filter(isUuid))
      const existing = ids.length > 0 ? await tx.$queryRawUnsafe<Existing[]>(LOOKUP_SQL, ids.map((row) => row.id)) : []
      const byExternalId = new Map<string, Existing>()
      const byId = new Map<string, Existing>()
      const byKey = new Map<string, Existing>()
      for (const contact of existing) {
        byId.set(contact.id, contact)
        if (contact.externalId) byExternalId.set(contact.externalId, contact)
        for (const key of contact.matchKeys) if (!byKey.has(key)) byKey.set(key, contact)
      }
      // Records of one person are merged first. A record whose UID names a contact (its external id, or its id:
      // our own export) is that contact's alone: two contacts that share an e-mail stay two.
      const people = groupRecords(records, (record) => {
        const known = byExternalId.get(record.externalId) ?? byId.get(record.externalId)
        return known ? [`contact:${known.id}`] : [`ext:${record.externalId}`, ...keysOfRecord.get(record)!]
      }).map((indexes) =>
        merge(
          indexes.map((i) => records[i]!),
          keyMaker,
        ),
      )
      const targetOf = (person: Merged): Existing | undefined => {
        for (const id of person.externalIds) {
          const hit = byExternalId.get(id) ?? byId.get(id)
          if (hit) return hit
        }
        for (const key of person.matchKeys) if (key.startsWith('email:') && byKey.has(key)) return byKey.get(key)
        for (const key of person.matchKeys) if (key.startsWith('tel:') && byKey.has(key)) return byKey.get(key)
        return undefined
      }
      // People of the batch that find the same contact (one by e-mail, one by phone) are merged into one update.
      const updates = new Map<string, { contact: Existing; person: Merged }>()
      const creates: Merged[] = []
      for (const person of people) {
        const contact = targetOf(person)
        if (!contact) {
          creates.push(person)
          continue
        }
        const seen = updates.get(contact.id)
        updates.set(contact.id, { contact, person: seen ? merge([...seen.person.records, ...person.records], keyMaker) : person })
      }

      // Groups: the labels of the batch, created when missing (within the groups quota).
      const labels = [...new Set(people.flatMap((person) => person.groups))]
      const groupIds = new Map<string, string>()
      if (labels.length > 0) {
        for (const group of await tx.group.findMany({ where: { userId, name: { in: labels } }, select: { id: true, name: true } })) groupIds.set(group.name, group.id)
        const missing = labels.filter((label) => !groupIds.has(label))
        const granted = await takeQuotaUpTo(tx, userId, 'groups', missing.length, options.maxGroups ?? DEFAULT_QUOTAS.groups)
        if (granted > 0) {
          const made = await tx.group.createManyAndReturn({ data: missing.slice(0, granted).map((name) => ({ userId, name })), select: { id: true, name: true } })
          for (const group of made) groupIds.set(group.name, group.id)
        }
        for (const label of missing.slice(granted)) {
          const person = people.find((candidate) => candidate.groups.includes(label))
          dropped.push({ position: person?.records[0]?.position ?? 0, field: 'groups', reason: `group "${label}" not created: ${quotaExceeded('groups', options.maxGroups ?? DEFAULT_QUOTAS.groups).message}` })
        }
      }
      const idsOf = (names: readonly string[]) => names.flatMap((name) => (groupIds.has(name) ? [groupIds.get(name)!] : []))

      // Creates: as many as the contacts quota allows, in one INSERT.
      const allowed = await takeQuotaUpTo(tx, userId, 'contacts', creates.length, options.maxContacts)
      const refusal = quotaExceeded('contacts', options.maxContacts)
      for (const person of creates.slice(allowed)) {
        for (const record of person.records) {
          counts.rejected++
          rejected.push({ kind: 'rejected', position: record.position, raw: record.raw, reason: `${refusal.message} (QUOTA_EXCEEDED)` })
        }
      }
      const created = creates.slice(0, allowed)
      // Contacts written into groups: their cadence may now come from a group's default.
      const grouped: string[] = []
      if (created.length > 0) {
        const nextDueAt = computeNextDueAt({ lastContactDate: null, frequencyPreference: null, dunbarCircle: null, createdAt: now })
        const rows: CreatedRow[] = created.map((person) => ({
          id: newUuidV7(),
          name: person.name,
          email: person.emails[0] ?? null,
          phone: person.phones[0] ?? null,
          emails: person.emails,
          phones: person.phones,
          matchKeys: person.matchKeys,
          linkedIn: person.linkedIn,
          instagram: person.instagram,
          xHandle: person.xHandle,
          otherSocialMedia: person.otherSocialMedia,
          location: person.location,
          timezone: person.timezone,
          customNotes: person.customNotes,
          birthday: person.birthday,
          anniversary: person.anniversary,
          tags: person.groups,
          groupIds: idsOf(person.groups),
          source: person.source,
          externalId: person.externalIds[0]!,
          importHash: importHashOf(person),
        }))
        // Raw SQL, one JSON parameter: Prisma's createMany took 2.5-5 s for 500 rows (its query building, not the server).
        for (let at = 0; at < rows.length; at += CREATE_CHUNK) {
          await tx.$executeRawUnsafe(INSERT_SQL, JSON.stringify(rows.slice(at, at + CREATE_CHUNK)), userId, now.toISOString(), nextDueAt.toISOString())
        }
        for (const row of rows) if (row.groupIds.length > 0) grouped.push(row.id)
        for (const person of created) {
          counts.created++
          counts.updated += person.records.length - 1
        }
      }

      // Updates: imported fields only; unchanged when the hash (or every value) is the same. One UPDATE
      // for up to 500 contacts (a re-import of a changed file updates thousands).
      const changedRows: UpdatedRow[] = []
      for (const { contact, person } of updates.values()) {
        const hash = importHashOf(person)
        const row = contact.importHash === hash ? null : updateOf(contact, person, hash, idsOf(person.groups), keyMaker)
        if (!row) {
          counts.unchanged += person.records.length
          continue
        }
        changedRows.push(row)
        counts.updated += person.records.length
      }
      for (let at = 0; at < changedRows.length; at += CREATE_CHUNK) {
        await tx.$executeRawUnsafe(UPDATE_SQL, JSON.stringify(changedRows.slice(at, at + CREATE_CHUNK)), now.toISOString(), userId)
      }
      for (const row of changedRows) if (row.groupIds.length > 0) grouped.push(row.id)
      if (grouped.length > 0) await recomputeInheritedCadence(tx, userId, { contactIds: grouped }, now)
    },
    { timeout: 2 * MINUTE_MS, maxWait: 30 * SECOND_MS },
  )
  return { counts, rejected, dropped }
}

/** A created contact, as one row of {@link INSERT_SQL}'s `jsonb_to_recordset`. */
interface CreatedRow extends Omit<UpdatedRow, 'externalId'> {
  externalId: string
  source: 'VCARD' | 'CSV'
}

/**
 * Inserts many contacts in one statement: $1 a JSON array of {@link CreatedRow}, $2 the user, $3 the time
 * (`createdAt`, `updatedAt`, ISO), $4 `nextDueAt` (ISO). The other columns take their defaults
 * (not archived, no circle, frequency or last contact).
 */
const INSERT_SQL = `INSERT INTO "Contact" (id, "userId", name, email, phone, emails, phones, "matchKeys", "linkedIn", instagram, "xHandle",
  "otherSocialMedia", location, timezone, "customNotes", birthday, anniversary, tags, "groupIds", source, "externalId", "importHash", "createdAt", "updatedAt", "nextDueAt")
SELECT v.id, $2::uuid, v.name, v.email, v.phone, v.emails, v.phones, v."matchKeys", v."linkedIn", v.instagram, v."xHandle",
  v."otherSocialMedia", v.location, v.timezone, v."customNotes", v.birthday, v.anniversary, v.tags, v."groupIds", v.source::"ContactSource", v."externalId",
  v."importHash", $3::timestamp, $3::timestamp, $4::timestamp
FROM jsonb_to_recordset($1::jsonb) AS v(
  id uuid, name text, email text, phone text, emails text[], phones text[], "matchKeys" text[], "linkedIn" text, instagram text,
  "xHandle" text, "otherSocialMedia" jsonb, location text, timezone text, "customNotes" text, birthday text, anniversary text, tags text[],
  "groupIds" uuid[], source text, "externalId" text, "importHash" text)`

/** The columns an import updates, as one row of {@link UPDATE_SQL}'s `jsonb_to_recordset`. */
interface UpdatedRow {
  id: string
  name: string
  email: string | null
  phone: string | null
  emails: string[]
  phones: string[]
  matchKeys: string[]
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  otherSocialMedia: Record<string, string> | null
  location: string | null
  timezone: string | null
  customNotes: string | null
  birthday: string | null
  anniversary: string | null
  tags: string[]
  groupIds: string[]
  externalId: string | null
  importHash: string
}

/**
 * Updates many contacts in one statement: $1 a JSON array of {@link UpdatedRow}, $2 the time (`updatedAt`,
 * ISO), $3 the user (a row of another user is never touched). Every imported column is written (the values
 * that did not change are written as they were); circle, frequency, last contact and nextDueAt are not columns here.
 */
const UPDATE_SQL = `UPDATE "Contact" AS c SET
  name = v.name, email = v.email, phone = v.phone, emails = v.emails, phones = v.phones, "matchKeys" = v."matchKeys",
  "linkedIn" = v."linkedIn", instagram = v.instagram, "xHandle" = v."xHandle", "otherSocialMedia" = v."otherSocialMedia",
  location = v.location, timezone = v.timezone, "customNotes" = v."customNotes", birthday = v.birthday, anniversary = v.anniversary,
  tags = v.tags, "groupIds" = v."groupIds", "externalId" = v."externalId", "importHash" = v."importHash", "updatedAt" = $2::timestamp
FROM jsonb_to_recordset($1::jsonb) AS v(
  id uuid, name text, email text, phone text, emails text[], phones text[], "matchKeys" text[], "linkedIn" text, instagram text,
  "xHandle" text, "otherSocialMedia" jsonb, location text, timezone text, "customNotes" text, birthday text, anniversary text, tags text[],
  "groupIds" uuid[], "externalId" text, "importHash" text)
WHERE c.id = v.id AND c."userId" = $3::uuid`

/** The row of an update of `contact` by `person`, or null when nothing would change. */
function updateOf(contact: Existing, person: Merged, hash: string, groupIds: string[], keyMaker: KeyMaker): UpdatedRow | null {
  // A contact created by hand has its primary e-mail and phone only.
  const baseEmails = contact.emails.length > 0 ? contact.emails : contact.email ? [contact.email] : []
  const basePhones = contact.phones.length > 0 ? contact.phones : contact.phone ? [contact.phone] : []
  const emails = unionEmails(baseEmails, person.emails)
  const phones = union(basePhones, person.phones, CONTACT_LIMITS.phones)
  const next = {
    name: person.name,
    email: emails[0] ?? null,
    phone: phones[0] ?? null,
    emails,
    phones,
    matchKeys: union(contact.matchKeys, keyMaker.keys(emails, phones), 2 * (CONTACT_LIMITS.emails + CONTACT_LIMITS.phones)),
    linkedIn: person.linkedIn ?? contact.linkedIn,
    instagram: person.instagram ?? contact.instagram,
    xHandle: person.xHandle ?? contact.xHandle,
    otherSocialMedia: mergeSocial((contact.otherSocialMedia as Record<string, string> | null) ?? null, person.otherSocialMedia),
    location: person.location ?? contact.location,
    timezone: person.timezone ?? contact.timezone,
    customNotes: contact.customNotes ?? person.customNotes,
    birthday: person.birthday ?? contact.birthday,
    anniversary: person.anniversary ?? contact.anniversary,
    tags: union(contact.tags, person.groups, CONTACT_LIMITS.tags),
    groupIds: union(contact.groupIds, groupIds, 100),
    // A contact found by its own id (the UID of its export) keeps having none: its id is its identity.
    externalId: contact.externalId ?? (person.externalIds.includes(contact.id) ? null : person.externalIds[0]!),
  }
  const changed = (Object.keys(next) as (keyof typeof next)[]).some((key) => !sameJson(next[key], contact[key]))
  return changed ? { id: contact.id, ...next, importHash: hash } : null
}
