/**
 * Write-back of what the user changed here to a CardDAV address book (issue 15, RFC 6352 over RFC 4918):
 *
 * - an edit (a contact of the account whose `remoteDirty` names `name`, `email` or `phone`): the stored card
 *   (`remoteCard`) with the local values (card-fields.ts: every other property kept) is PUT with
 *   `If-Match: remoteEtag` (RFC 7232). On 412 the server's current card is read (addressbook-multiget) and
 *   each dirty field decided 3-way against the stored card: the server did not change it -> the local value
 *   is written on top of the server's card (PUT with its ETag); the server changed it too -> the server
 *   wins, the local value goes to a `SyncConflict` row and the contact takes the server's value. The contact
 *   then takes every column the server's card owns (card-contact.ts), since the next pull sees our ETag.
 *   A card gone from the server archives the contact (`remoteDeletedAt`), as a pull would.
 * - a create (a contact of the account without `remoteHref`, `remoteDirty` holding `create`): a new card
 *   `<collection url><uuid>.vcf` is PUT with `If-None-Match: *`.
 *
 * `remoteDirty` is cleared only of the fields whose value is still the one written (an edit made while the
 * sync ran stays dirty for the next one). Requests are one at a time; the signal is checked between contacts.
 */
import { randomUUID } from 'node:crypto'
import { isMemberHref, multiget, putObject } from '../dav/client.ts'
import { DavHttpError, PreconditionFailedError, type DavSession } from '../dav/types.ts'
import { CREATE_MARKER } from '../contacts/contact-writes.ts'
import { Prisma } from '../generated/prisma/client.ts'
import { cardColumns, collectionPrefix, hrefUrl, mapCard, VCARD_CONTENT_TYPE, type CardColumns } from './card-contact.ts'
import { CARD_FIELDS, decideWriteBack, newCard, readCardFields, replaceCardFields, sameFieldValue, type CardField, type CardFields } from './card-fields.ts'
import type { SyncAccount, SyncCollection, SyncDeps } from './types.ts'

/** What a write-back did. */
export interface WriteBackResult {
  /** PUTs that succeeded (edits and creates). */
  written: number
  /** Fields changed on both sides (SyncConflict rows written). */
  conflicts: number
  /** Local contacts changed (a server value adopted, a card gone archived). */
  changed: number
  /** Contacts archived because their card was gone from the server. */
  removed: number
}

export { CREATE_MARKER }

/**
 * Statuses of a PUT that say "not this card" rather than "not now" (RFC 9110): the server refuses the card
 * itself, or (404) it is gone. Retrying cannot help, so the server's card is taken (the local values go
 * to SyncConflict rows) instead of failing every sync from now on.
 */
const REFUSED = new Set([400, 404, 405, 409, 413, 415, 422])
const refused = (error: unknown): error is DavHttpError => error instanceof DavHttpError && !(error instanceof PreconditionFailedError) && REFUSED.has(error.status)

/** Contacts read per page. */
const PAGE = 50
/** PUTs tried per contact before giving up until the next sync (each 412 reads the server's card again). */
const MAX_ATTEMPTS = 3

interface DirtyContact {
  id: string
  name: string
  email: string | null
  phone: string | null
  remoteHref: string | null
  remoteEtag: string | null
  remoteCard: string | null
  remoteDirty: string[]
  externalId: string | null
}

const isCardField = (value: string): value is CardField => (CARD_FIELDS as readonly string[]).includes(value)

function pick(fields: CardFields, names: readonly CardField[]): Partial<CardFields> {
  return Object.fromEntries(names.map((name) => [name, fields[name]]))
}

/** Prisma's value of a nullable Json column. */
const json = (value: Record<string, string> | null) => (value === null ? Prisma.DbNull : value)

function columnsData(columns: CardColumns, keep: readonly CardField[]): Prisma.ContactUpdateInput {
  const { email, phone, emails, phones, matchKeys, otherSocialMedia, name, ...rest } = columns
  return {
    ...rest,
    otherSocialMedia: json(otherSocialMedia),
    ...(keep.includes('name') ? {} : { name }),
    ...(keep.includes('email') || keep.includes('phone') ? {} : { email, phone, emails, phones, matchKeys }),
  }
}

/**
 * Writes back the account's dirty contacts of `collection` (and, when `createsHere`, the account's contacts
 * created here), see the module comment.
 * @param createsHere this collection is where the account's new contacts go (its first enabled address book).
 * @throws DavHttpError (401/403: credentials; 5xx, 0: retry later) and database errors: what was written stays
 *   written, the rest stays dirty. An abort of `deps.signal` stops between contacts (its reason is thrown).
 */
export async function writeBackContacts(
  deps: SyncDeps,
  account: SyncAccount,
  collection: SyncCollection,
  session: DavSession,
  { createsHere }: { createsHere: boolean },
): Promise<WriteBackResult> {
  const { prisma } = deps
  const result: WriteBackResult = { written: 0, conflicts: 0, changed: 0, removed: 0 }
  const prefix = collectionPrefix(collection.url)
  let after: string | null = null
  for (;;) {
    const page: DirtyContact[] = await prisma.contact.findMany({
      where: {
        accountId: account.id,
        userId: account.userId,
        NOT: { remoteDirty: { isEmpty: true } },
        OR: [{ remoteHref: { startsWith: prefix } }, ...(createsHere ? [{ remoteHref: null }] : [])],
        ...(after ? { id: { gt: after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: PAGE,
      select: { id: true, name: true, email: true, phone: true, remoteHref: true, remoteEtag: true, remoteCard: true, remoteDirty: true, externalId: true },
    })
    for (const contact of page) {
      deps.signal?.throwIfAborted()
      if (contact.remoteHref === null) await create(contact)
      else await edit(contact, contact.remoteHref)
    }
    if (page.length < PAGE) return result
    after = page[page.length - 1]!.id
  }

  /** Clears what was written from `remoteDirty` (under the row's lock): the markers, and the fields still at the written value. */
  function remaining(current: { remoteDirty: string[] } & CardFields, written: CardFields, clear: readonly string[]): string[] {
    return current.remoteDirty.filter((marker) => !clear.includes(marker) && !(isCardField(marker) && sameFieldValue(marker, current[marker], written[marker])))
  }

  async function lockRow(tx: Prisma.TransactionClient, id: string) {
    await tx.$queryRaw`SELECT 1 FROM "Contact" WHERE id = ${id}::uuid FOR UPDATE`
    return tx.contact.findUnique({ where: { id }, select: { name: true, email: true, phone: true, remoteDirty: true } })
  }

  async function create(contact: DirtyContact): Promise<void> {
    const local: CardFields = { name: contact.name, email: contact.email, phone: contact.phone }
    const base = collection.url.endsWith('/') ? collection.url : `${collection.url}/`
    for (let attempt = 1; ; attempt++) {
      const uid = randomUUID()
      const url = new URL(`${uid}.vcf`, base).href
      const card = newCard(uid, local)
      let etag: string | null
      try {
        ;({ etag } = await putObject(session, url, card, VCARD_CONTENT_TYPE, { ifNoneMatch: '*' }))
      } catch (error) {
        // A member with this name exists already (a uuid, so never in practice): another name.
        if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) continue
        if (refused(error)) {
          // The server will not take this card: the contact stays here, marked, and the sync goes on.
          deps.logger.warn({ accountId: account.id, contactId: contact.id, status: error.status }, 'the server refused a new card')
          return
        }
        throw error
      }
      result.written++
      await prisma.$transaction(async (tx) => {
        const current = await lockRow(tx, contact.id)
        if (!current) return
        await tx.contact.update({
          where: { id: contact.id },
          data: {
            remoteHref: new URL(url).pathname,
            remoteEtag: etag,
            remoteCard: card,
            remoteDirty: remaining(current, local, [CREATE_MARKER]),
            lastSyncedAt: deps.now(),
            source: 'CARDDAV',
            ...(contact.externalId ? {} : { externalId: uid }),
          },
        })
      })
      return
    }
  }

  async function edit(contact: DirtyContact, href: string): Promise<void> {
    const dirty = contact.remoteDirty.filter(isCardField)
    const local: CardFields = { name: contact.name, email: contact.email, phone: contact.phone }
    const url = hrefUrl(collection.url, href)
    // Never a PUT outside the collection with the account's credentials (an href stored before members were checked).
    if (!isMemberHref(href, collection.url)) {
      deps.logger.warn({ accountId: account.id, href }, 'write-back skipped: the href is outside its collection')
      await prisma.contact.update({ where: { id: contact.id }, data: { remoteDirty: [] } })
      return
    }
    if (dirty.length === 0) {
      // Only markers this code does not write (a stale `create`): nothing to send.
      await prisma.contact.update({ where: { id: contact.id }, data: { remoteDirty: [] } })
      return
    }
    if (contact.remoteCard && contact.remoteEtag) {
      const card = replaceCardFields(contact.remoteCard, pick(local, dirty))
      try {
        const { etag } = await putObject(session, url, card, VCARD_CONTENT_TYPE, { ifMatch: contact.remoteEtag })
        result.written++
        await prisma.$transaction(async (tx) => {
          const current = await lockRow(tx, contact.id)
          if (!current) return
          await tx.contact.update({
            where: { id: contact.id },
            data: { remoteEtag: etag, remoteCard: card, remoteDirty: remaining(current, local, []), lastSyncedAt: deps.now() },
          })
        })
        return
      } catch (error) {
        if (refused(error)) return takeServers(contact, local, dirty, href, error)
        if (!(error instanceof PreconditionFailedError)) throw error
      }
    }
    // Changed on the server since it was read (or never read): the 3-way merge against its current card.
    const baseFields = contact.remoteCard ? readCardFields(contact.remoteCard) : null
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [current] = await multiget(session, collection.url, 'ADDRESS_BOOK', [href])
      if (!current) {
        await gone(contact)
        return
      }
      const server = readCardFields(current.data)
      const decision = decideWriteBack(dirty, baseFields ?? server, local, server)
      let card = current.data
      let etag: string | null = current.etag
      if (Object.keys(decision.write).length > 0) {
        card = replaceCardFields(current.data, decision.write)
        try {
          ;({ etag } = await putObject(session, url, card, VCARD_CONTENT_TYPE, { ifMatch: current.etag }))
        } catch (error) {
          if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) continue
          if (refused(error)) return takeServers(contact, local, dirty, href, error)
          throw error
        }
        result.written++
      }
      await merged(contact, local, card, etag, decision.conflicts)
      return
    }
  }

  /** After a 3-way merge: the conflicts recorded, the contact takes the card's columns (but fields edited meanwhile). */
  async function merged(contact: DirtyContact, local: CardFields, card: string, etag: string | null, conflicts: ReturnType<typeof decideWriteBack>['conflicts']) {
    const mapped = mapCard(card, 1)
    const now = deps.now()
    await prisma.$transaction(async (tx) => {
      const current = await lockRow(tx, contact.id)
      if (!current) return
      // Fields edited again while this sync ran keep the newer local value (and stay dirty).
      const editedSince = CARD_FIELDS.filter((field) => !sameFieldValue(field, current[field], local[field]))
      const written = readCardFields(card)
      const dirty = current.remoteDirty.filter((marker) => isCardField(marker) && editedSince.includes(marker))
      if (conflicts.length > 0) {
        await tx.syncConflict.createMany({
          data: conflicts.map((conflict) => ({
            userId: account.userId,
            contactId: contact.id,
            accountId: account.id,
            field: conflict.field,
            localValue: conflict.localValue,
            remoteValue: conflict.remoteValue,
            createdAt: now,
          })),
        })
      }
      const columns = mapped.kind === 'contact' ? columnsData(cardColumns(mapped), editedSince) : {}
      const adopted = mapped.kind === 'contact' && CARD_FIELDS.some((field) => !editedSince.includes(field) && !sameFieldValue(field, current[field], written[field]))
      await tx.contact.update({
        where: { id: contact.id },
        data: { ...columns, remoteEtag: etag, remoteCard: card, remoteDirty: dirty, lastSyncedAt: now },
      })
      if (adopted || conflicts.length > 0) result.changed++
    })
    result.conflicts += conflicts.length
  }

  /** The server refused the edited card: its own card is taken, every local value that differs kept in a SyncConflict. */
  async function takeServers(contact: DirtyContact, local: CardFields, dirty: readonly CardField[], href: string, error: DavHttpError): Promise<void> {
    deps.logger.warn({ accountId: account.id, contactId: contact.id, status: error.status }, 'the server refused an edited card: its own card is kept')
    const [current] = await multiget(session, collection.url, 'ADDRESS_BOOK', [href])
    if (!current) return gone(contact)
    const server = readCardFields(current.data)
    const conflicts = dirty.filter((field) => !sameFieldValue(field, server[field], local[field])).map((field) => ({ field, localValue: local[field], remoteValue: server[field] }))
    await merged(contact, local, current.data, current.etag, conflicts)
  }

  /** The card is gone from the server: the contact is archived as a pull archives it (its edits are dropped). */
  async function gone(contact: DirtyContact) {
    const now = deps.now()
    const { count } = await prisma.contact.updateMany({
      where: { id: contact.id, archived: false, remoteDeletedAt: null },
      data: { archived: true, remoteDeletedAt: now, lastSyncedAt: now },
    })
    await prisma.contact.update({ where: { id: contact.id }, data: { remoteDirty: [] } })
    result.removed += count
    result.changed += count
  }
}
