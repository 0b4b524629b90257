/**
 * The sync of one CardDAV address book (issue 15; RFC 6352 CardDAV, RFC 6578 sync-collection):
 *
 * 1. the user's edits go first (write-back.ts: PUT with If-Match, 3-way on 412, creates with If-None-Match);
 * 2. then the server's changes come in. With a stored sync token: the changes since it, page by page; without
 *    one, or when the server refuses it (SyncTokenInvalidError): a full resync that lists every member with
 *    its ETag and compares it with the stored one (so it changes nothing that did not change), stamping each
 *    listed contact's `lastSyncedAt` with exactly the resync's start, then archives the contacts not stamped: gone. Either way only new or changed cards are read, by addressbook-multiget
 *    of at most MULTIGET_MAX_HREFS hrefs, and each such page is written in one transaction: the memory is one
 *    page of cards, whatever the collection's size.
 *
 * A card is mapped as an import maps it (card-contact.ts); a card the mapping rejects is counted and skipped.
 * - new href: the card's UID names an unlinked contact of the user (an earlier import), or its e-mails and
 *   phones match exactly one unlinked contact: that contact is linked (its e-mails and phones kept after the
 *   card's, its notes kept); else a contact is created (source CARDDAV, due from now, one unit of the
 *   contacts quota; past the quota the card is counted as rejected and skipped);
 * - known href, other ETag: only the columns the card owns change (CardColumns); never the circle, frequency,
 *   notes, tags, groups or interactions. A contact with edits not yet written back is left for the next
 *   write-back (its 412 merges both);
 * - known href, same ETag: unchanged (a contact archived because its card was deleted is restored);
 * - deleted: archived, `remoteDeletedAt` set (interactions kept); restored (archived = false) when the card
 *   comes back, only if the sync archived it: a contact the user archived stays archived.
 *
 * The new token (and ctag) is stored on the AccountCollection with `lastSyncedAt` only once the pull is
 * complete: an aborted or failed sync runs again from the old token, and every write is idempotent.
 */
import type { CountryCode } from 'libphonenumber-js'
import { DEFAULT_QUOTAS } from '../config.ts'
import { computeNextDueAt } from '../contacts/cadence.ts'
import { listMembers, multiget, readCollectionState, syncCollection } from '../dav/client.ts'
import { MULTIGET_MAX_HREFS, SyncTokenInvalidError, type DavChange, type DavMember, type DavSession } from '../dav/types.ts'
import { newUuidV7 } from '../db/uuid.ts'
import type { Prisma } from '../generated/prisma/client.ts'
import { matchKeysOf } from '../contacts/match-keys.ts'
import type { ImportedContact } from '../imports/types.ts'
import { takeQuotaUpTo } from '../quotas.ts'
import { MINUTE_MS, SECOND_MS } from '../time.ts'
import { CARD_COLUMN_TYPES, cardColumns, cardColumnsDiffer, collectionPrefix, mapCard, type CardColumns } from './card-contact.ts'
import { emptySyncResult, type CollectionSyncResult, type SyncAccount, type SyncCollection, type SyncDeps, type SyncProgress } from './types.ts'
import { writeBackContacts } from './write-back.ts'

/** {@link SyncDeps} and the user's contacts quota (MAX_CONTACTS_PER_USER; default DEFAULT_QUOTAS.contacts). */
export interface ContactsSyncDeps extends SyncDeps {
  maxContacts?: number | undefined
  /** The country of numbers written without one, for the match keys (as imports take it). */
  defaultCountry?: CountryCode | undefined
}

/** {@link CollectionSyncResult} and the cards skipped: rejected by the mapping, or past the contacts quota. */
export interface ContactsSyncResult extends CollectionSyncResult {
  rejected: number
}

/** A member as a page of the pull handles it: its href and current ETag. */
interface Member {
  href: string
  etag: string
}

/** What the pull knows of a stored contact. */
interface Stored {
  id: string
  remoteHref: string
  remoteEtag: string | null
  remoteDeletedAt: Date | null
  dirty: boolean
}

/** A stored contact as a page's transaction reads it (locked): the columns its card owns. */
interface StoredRow extends Stored, Omit<CardColumns, 'otherSocialMedia'> {
  otherSocialMedia: unknown
}

/** An unlinked contact a new card may link to (found by its UID or its match keys). */
interface Candidate {
  id: string
  externalId: string | null
  accountId: string | null
  archived: boolean
  emails: string[]
  phones: string[]
  email: string | null
  phone: string | null
  matchKeys: string[]
}

/** The columns a card owns (card-contact.ts CARD_COLUMN_TYPES), quoted: `"name"`, `"email"`, …. */
const CARD_COLUMN_NAMES = Object.keys(CARD_COLUMN_TYPES).map((column) => `"${column}"`)
const CARD_COLUMNS_SQL = CARD_COLUMN_NAMES.join(', ')

/** Stored contacts of the account ($1) by href ($2); `FOR UPDATE` in a page's transaction. */
const STORED_SQL = `SELECT id::text, "remoteHref", "remoteEtag", "remoteDeletedAt", cardinality("remoteDirty") > 0 AS dirty, ${CARD_COLUMNS_SQL}
FROM "Contact" WHERE "accountId" = $1::uuid AND "remoteHref" = ANY($2::text[])`

/**
 * Contacts of the user ($1) a new card may be: by external id ($2, any contact: a linked one blocks the UID),
 * or by match key ($3, unlinked ones), each one probe of its index (as the import's lookup, apply-batch.ts).
 */
const CANDIDATE_IDS_SQL = `SELECT x.id FROM unnest($2::text[]) AS e(ext)
  CROSS JOIN LATERAL (SELECT c.id FROM "Contact" c WHERE c."userId" = $1::uuid AND c."externalId" = e.ext OFFSET 0) x
  UNION
  SELECT x.id FROM unnest($3::text[]) AS k(key)
  CROSS JOIN LATERAL (SELECT c.id, c."userId", c."accountId" FROM "Contact" c WHERE c."matchKeys" @> ARRAY[k.key] OFFSET 0) x
  WHERE x."userId" = $1::uuid AND x."accountId" IS NULL`
const CANDIDATES_SQL = `SELECT id::text, "externalId", "accountId"::text, archived, emails, phones, email, phone, "matchKeys"
FROM "Contact" WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`

/** A row of {@link INSERT_SQL} and {@link UPDATE_SQL}. */
interface Row extends CardColumns {
  id: string
  customNotes: string | null
  externalId: string | null
  remoteHref: string
  remoteEtag: string
  remoteCard: string
  changed: boolean
}

const RECORD = `id uuid, ${Object.entries(CARD_COLUMN_TYPES)
  .map(([column, type]) => `"${column}" ${type}`)
  .join(', ')}, "customNotes" text, "externalId" text, "remoteHref" text, "remoteEtag" text, "remoteCard" text, changed boolean`

/** $1 rows (JSON), $2 the user, $3 the account, $4 now (ISO), $5 nextDueAt (ISO). */
const INSERT_SQL = `INSERT INTO "Contact" (id, "userId", ${CARD_COLUMNS_SQL}, "customNotes", "externalId", "remoteHref", "remoteEtag", "remoteCard",
  "accountId", source, "lastSyncedAt", "createdAt", "updatedAt", "nextDueAt")
SELECT v.id, $2::uuid, ${CARD_COLUMN_NAMES.map((column) => `v.${column}`).join(', ')}, v."customNotes", v."externalId", v."remoteHref", v."remoteEtag", v."remoteCard",
  $3::uuid, 'CARDDAV'::"ContactSource", $4::timestamp, $4::timestamp, $4::timestamp, $5::timestamp
FROM jsonb_to_recordset($1::jsonb) AS v(${RECORD})`

/**
 * Card columns, link and sync state of existing contacts: $1 rows (JSON), $2 now (ISO), $3 the account, $4 the user.
 * Notes only where the contact has none (a linked contact); a contact the sync archived is restored.
 */
const UPDATE_SQL = `UPDATE "Contact" AS c SET
  ${CARD_COLUMN_NAMES.map((column) => `${column} = v.${column}`).join(', ')},
  "customNotes" = COALESCE(c."customNotes", v."customNotes"), "accountId" = $3::uuid, source = 'CARDDAV'::"ContactSource",
  "remoteHref" = v."remoteHref", "remoteEtag" = v."remoteEtag", "remoteCard" = v."remoteCard",
  archived = CASE WHEN c."remoteDeletedAt" IS NOT NULL THEN false ELSE c.archived END, "remoteDeletedAt" = NULL,
  "lastSyncedAt" = $2::timestamp, "updatedAt" = CASE WHEN v.changed THEN $2::timestamp ELSE c."updatedAt" END
FROM jsonb_to_recordset($1::jsonb) AS v(${RECORD})
WHERE c.id = v.id AND c."userId" = $4::uuid`

/** Dedupes a page's members by href (the last one wins). */
function byHref<T extends { href: string }>(items: readonly T[]): T[] {
  return [...new Map(items.map((item) => [item.href, item])).values()]
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size))
  return out
}

function unionCaseless(first: readonly string[], rest: readonly string[], key: (value: string) => string): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const value of [...first, ...rest]) {
    if (seen.has(key(value))) continue
    seen.add(key(value))
    out.push(value)
  }
  return out
}

/**
 * Syncs one address book of an account: the user's edits written back, then the server's changes read (see
 * the module comment).
 *
 * @param session the account's DAV session; `requests` (createDavSession's counter), when it has one, gives
 *   the result's `requests`.
 * @returns what it did; `syncToken` the token stored for the next sync.
 * @throws DavHttpError (401/403: credentials; 429/503 with retryAfterMs; 5xx, 0: retry later), database
 *   errors, and the abort reason when `deps.signal` aborts (checked between pages): nothing of the token moves,
 *   the pages written stay written and the next run skips them by ETag.
 */
export async function syncAddressBook(
  deps: ContactsSyncDeps,
  account: SyncAccount,
  collection: SyncCollection,
  session: DavSession & { readonly requests?: number },
): Promise<ContactsSyncResult> {
  const { prisma, logger } = deps
  const startRequests = session.requests ?? 0
  const maxContacts = deps.maxContacts ?? DEFAULT_QUOTAS.contacts
  const prefix = collectionPrefix(collection.url)
  const result: ContactsSyncResult = { ...emptySyncResult(collection.syncToken), rejected: 0 }
  let done = 0
  let localChanges = 0
  const progress = (phase: SyncProgress['phase'], total: number | null = null) =>
    deps.onProgress?.({ accountId: account.id, collectionUrl: collection.url, phase, done, total })

  // 1. The user's edits, before the server's changes (a 412 merges both sides field by field).
  const first = await prisma.accountCollection.findFirst({
    where: { accountId: account.id, kind: 'ADDRESS_BOOK', enabled: true },
    orderBy: { url: 'asc' },
    select: { id: true },
  })
  const pushed = await writeBackContacts(deps, account, collection, session, { createsHere: !first || first.id === collection.id })
  result.written = pushed.written
  result.conflicts = pushed.conflicts
  result.removed += pushed.removed
  localChanges += pushed.changed

  // 2. The server's changes.
  let token: string | null = null
  let ctag = collection.ctag
  let needFull = collection.syncToken === null
  if (collection.syncToken !== null) {
    try {
      token = await pullIncremental(collection.syncToken)
    } catch (error) {
      if (!(error instanceof SyncTokenInvalidError)) throw error
      logger.info({ accountId: account.id, collectionUrl: collection.url }, 'sync token refused: full resync')
      needFull = true
    }
  }
  if (needFull) {
    const state = await readCollectionState(session, collection.url)
    // No token on either side and the same ctag as last time: nothing changed on the server.
    const unchangedCtag = collection.syncToken === null && state.syncToken === null && state.ctag !== null && state.ctag === collection.ctag
    token = state.syncToken
    if (!unchangedCtag) {
      result.fullResync = true
      // With sync on the server, the listing is a sync-collection from no token (Radicale answers it
      // ten times faster than a PROPFIND of 20,000 members), and its token is the one to keep.
      token = (await pullFull(state.syncToken !== null)) ?? state.syncToken
    }
    ctag = state.ctag
  }
  const now = deps.now()
  await prisma.accountCollection.update({ where: { id: collection.id }, data: { syncToken: token, ctag, lastSyncedAt: now } })
  result.syncToken = token
  result.requests = (session.requests ?? 0) - startRequests
  progress('done', done)
  if (result.created + result.updated + result.removed + result.restored + localChanges > 0) deps.announce(account.userId, 'contact')
  return result

  /** Changes since `since`, page by page; returns the server's new token. */
  async function pullIncremental(since: string): Promise<string | null> {
    const pages = syncCollection(session, collection.url, since)
    try {
      for (;;) {
        const step = await pages.next()
        if (step.done) return step.value
        const changes: DavChange[] = byHref(step.value)
        const deleted = changes.filter((change) => change.deleted).map((change) => change.href)
        if (deleted.length > 0) await archiveDeleted(deleted)
        const changed = changes.flatMap((change) => (change.deleted ? [] : [{ href: change.href, etag: change.etag }]))
        for (const chunk of chunks(changed, MULTIGET_MAX_HREFS)) await pullPage(chunk)
        done += deleted.length
        deps.signal?.throwIfAborted()
      }
    } finally {
      await pages.return?.(null)
    }
  }

  /**
   * Every member listed (by sync-collection from no token when `bySync`, else PROPFIND) and compared by
   * ETag, each listed contact stamped with the run's start in `lastSyncedAt`; then the collection's contacts
   * whose `lastSyncedAt` is not that stamp are archived: gone from the server. Memory is one page, whatever the collection's size.
   * Returns the sync-collection's new token.
   */
  async function pullFull(bySync: boolean): Promise<string | null | undefined> {
    progress('listing')
    const listedAt = deps.now()
    let listedToken: string | null | undefined
    async function* everyMember(): AsyncGenerator<DavMember[], void, undefined> {
      if (!bySync) return yield* listMembers(session, collection.url)
      const pages = syncCollection(session, collection.url, null)
      try {
        for (;;) {
          const step = await pages.next()
          if (step.done) {
            listedToken = step.value
            return
          }
          yield step.value.flatMap((change) => (change.deleted ? [] : [{ href: change.href, etag: change.etag }]))
        }
      } finally {
        // Stopped half-way (an abort, a failed page): the listing's answer is cancelled, not left open (its
        // time runs only while it is read, so nothing else would ever close it).
        await pages.return?.(null)
      }
    }
    for await (const members of everyMember()) {
      for (const chunk of chunks(byHref(members), MULTIGET_MAX_HREFS)) await pullPage(chunk, listedAt)
      deps.signal?.throwIfAborted()
    }
    result.removed += await prisma.$executeRawUnsafe(
      `UPDATE "Contact" SET archived = true, "remoteDeletedAt" = $3::timestamp, "lastSyncedAt" = $3::timestamp, "updatedAt" = $3::timestamp
       WHERE "accountId" = $1::uuid AND starts_with("remoteHref", $2) AND archived = false AND "remoteDeletedAt" IS NULL
       AND "lastSyncedAt" IS DISTINCT FROM $4::timestamp`,
      account.id,
      prefix,
      deps.now().toISOString(),
      listedAt.toISOString(),
    )
    return listedToken
  }

  /** Contacts whose card was deleted on the server: archived, with `remoteDeletedAt` (a user's own archive is left alone). */
  async function archiveDeleted(hrefs: string[]): Promise<void> {
    const now = deps.now()
    const count = await prisma.$executeRawUnsafe(
      `UPDATE "Contact" SET archived = true, "remoteDeletedAt" = $3::timestamp, "lastSyncedAt" = $3::timestamp, "updatedAt" = $3::timestamp
       WHERE "accountId" = $1::uuid AND "remoteHref" = ANY($2::text[]) AND archived = false AND "remoteDeletedAt" IS NULL`,
      account.id,
      hrefs,
      now.toISOString(),
    )
    result.removed += count
  }

  /**
   * One page (at most MULTIGET_MAX_HREFS members): the new and changed cards read, mapped and written in one
   * transaction. `listedAt` (a full resync's start): then every contact of the page's hrefs, stored or just
   * written, gets exactly it as `lastSyncedAt`, so the resync tells the listed from the gone by equality, not
   * by order (a wall clock stepped back during or between runs would otherwise archive a listed contact
   * written at an earlier time, or keep a gone one stamped by a fast clock).
   */
  async function pullPage(members: Member[], listedAt?: Date): Promise<void> {
    if (members.length === 0) return
    const stored = new Map<string, Stored>()
    for (const row of await prisma.$queryRawUnsafe<Stored[]>(STORED_SQL, account.id, members.map((member) => member.href))) stored.set(row.remoteHref, row)
    const toRead: string[] = []
    const restore: string[] = []
    for (const member of members) {
      const known = stored.get(member.href)
      if (known && known.remoteEtag === member.etag) {
        if (known.remoteDeletedAt) restore.push(known.id)
        else result.unchanged++
      } else if (known?.dirty) {
        // Edited here since the write-back: the next write-back's 412 merges both sides.
        result.unchanged++
      } else toRead.push(member.href)
    }
    const mapped: { href: string; etag: string; data: string; contact: ImportedContact }[] = []
    if (toRead.length > 0) {
      progress('reading')
      const objects = await multiget(session, collection.url, 'ADDRESS_BOOK', toRead)
      result.read += objects.length
      for (const object of objects) {
        const contact = mapCard(object.data, done + mapped.length + 1)
        if (contact.kind === 'rejected') {
          result.rejected++
          logger.debug({ accountId: account.id, href: object.href, reason: contact.reason }, 'card skipped: the mapping rejects it')
          continue
        }
        mapped.push({ href: object.href, etag: object.etag, data: object.data, contact })
      }
    }
    if (mapped.length > 0 || restore.length > 0) {
      progress('writing')
      await prisma.$transaction((tx) => writePage(tx, mapped, restore), { timeout: 2 * MINUTE_MS, maxWait: 30 * SECOND_MS })
    }
    if (listedAt) {
      await prisma.$executeRawUnsafe(
        `UPDATE "Contact" SET "lastSyncedAt" = $3::timestamp WHERE "accountId" = $1::uuid AND "remoteHref" = ANY($2::text[])`,
        account.id,
        members.map((member) => member.href),
        listedAt.toISOString(),
      )
    }
    done += members.length
    progress('reading')
  }

  async function writePage(tx: Prisma.TransactionClient, cards: { href: string; etag: string; data: string; contact: ImportedContact }[], restore: string[]): Promise<void> {
    const now = deps.now()
    // Pages of one user (and imports) run one after the other: each sees the contacts the other created.
    await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${account.userId}::uuid FOR UPDATE`
    if (restore.length > 0) {
      result.restored += await tx.$executeRawUnsafe(
        `UPDATE "Contact" SET archived = false, "remoteDeletedAt" = NULL, "lastSyncedAt" = $2::timestamp, "updatedAt" = $2::timestamp
         WHERE id = ANY($1::uuid[]) AND "remoteDeletedAt" IS NOT NULL`,
        restore,
        now.toISOString(),
      )
    }
    if (cards.length === 0) return
    const stored = new Map<string, StoredRow>()
    for (const row of await tx.$queryRawUnsafe<StoredRow[]>(`${STORED_SQL} FOR UPDATE`, account.id, cards.map((card) => card.href))) stored.set(row.remoteHref, row)

    const updates: Row[] = []
    const fresh: typeof cards = []
    for (const card of cards) {
      const known = stored.get(card.href)
      if (!known) {
        fresh.push(card)
        continue
      }
      if (known.dirty) {
        result.unchanged++
        continue
      }
      const columns = cardColumns(card.contact, deps.defaultCountry)
      const changed = cardColumnsDiffer(known, columns)
      const restored = known.remoteDeletedAt !== null
      if (restored) result.restored++
      if (changed) result.updated++
      else if (!restored) result.unchanged++
      updates.push({ ...columns, id: known.id, customNotes: null, externalId: null, remoteHref: card.href, remoteEtag: card.etag, remoteCard: card.data, changed: changed || restored })
    }

    // New hrefs: an unlinked contact of the user that is this card (its UID, or exactly one by e-mail / phone) is linked.
    const creates: Row[] = []
    if (fresh.length > 0) {
      const keysOf = new Map(fresh.map((card) => [card, matchKeysOf(card.contact.emails, card.contact.phones, deps.defaultCountry)]))
      const externalIds = [...new Set(fresh.map((card) => card.contact.externalId))]
      const keys = [...new Set([...keysOf.values()].flat())]
      const ids = await tx.$queryRawUnsafe<{ id: string }[]>(CANDIDATE_IDS_SQL, account.userId, externalIds, keys)
      const candidates = ids.length > 0 ? await tx.$queryRawUnsafe<Candidate[]>(CANDIDATES_SQL, ids.map((row) => row.id)) : []
      const byExternalId = new Map(candidates.filter((c) => c.externalId !== null).map((c) => [c.externalId!, c]))
      const claimed = new Set<string>()
      const usedExternalIds = new Set(byExternalId.keys())
      for (const card of fresh) {
        const columns = cardColumns(card.contact, deps.defaultCountry)
        const uid = card.contact.externalId
        const sameUid = byExternalId.get(uid)
        let target: Candidate | undefined = sameUid && sameUid.accountId === null && !claimed.has(sameUid.id) ? sameUid : undefined
        if (!target) {
          const keys = keysOf.get(card)!
          const matches = candidates.filter((c) => c.accountId === null && !c.archived && !claimed.has(c.id) && c.matchKeys.some((key) => keys.includes(key)))
          if (matches.length === 1) target = matches[0]
        }
        if (target) {
          claimed.add(target.id)
          // The card's values lead; the contact's other e-mails and phones stay after them.
          const baseEmails = target.emails.length > 0 ? target.emails : target.email ? [target.email] : []
          const basePhones = target.phones.length > 0 ? target.phones : target.phone ? [target.phone] : []
          const emails = unionCaseless(columns.emails, baseEmails, (email) => email.toLowerCase())
          const phones = unionCaseless(columns.phones, basePhones, (phone) => phone)
          const linked: CardColumns = { ...columns, emails, phones, email: emails[0] ?? null, phone: phones[0] ?? null, matchKeys: matchKeysOf(emails, phones, deps.defaultCountry) }
          updates.push({ ...linked, id: target.id, customNotes: card.contact.customNotes, externalId: null, remoteHref: card.href, remoteEtag: card.etag, remoteCard: card.data, changed: true })
          result.updated++
          continue
        }
        // A UID another contact has (another account's, or a second card with it): the new contact goes without one.
        const externalId = usedExternalIds.has(uid) ? null : uid
        if (externalId) usedExternalIds.add(externalId)
        creates.push({ ...columns, id: newUuidV7(now.getTime()), customNotes: card.contact.customNotes, externalId, remoteHref: card.href, remoteEtag: card.etag, remoteCard: card.data, changed: true })
      }
    }
    if (creates.length > 0) {
      const granted = await takeQuotaUpTo(tx, account.userId, 'contacts', creates.length, maxContacts)
      if (granted < creates.length) {
        result.rejected += creates.length - granted
        logger.warn({ accountId: account.id, userId: account.userId, skipped: creates.length - granted, maxContacts }, 'contacts quota reached: cards not synced')
      }
      const rows = creates.slice(0, granted)
      if (rows.length > 0) {
        const nextDueAt = computeNextDueAt({ lastContactDate: null, frequencyPreference: null, dunbarCircle: null, createdAt: now })
        await tx.$executeRawUnsafe(INSERT_SQL, JSON.stringify(rows), account.userId, account.id, now.toISOString(), nextDueAt.toISOString())
        result.created += rows.length
      }
    }
    if (updates.length > 0) await tx.$executeRawUnsafe(UPDATE_SQL, JSON.stringify(updates), now.toISOString(), account.id, account.userId)
  }
}
