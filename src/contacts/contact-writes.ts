/**
 * Every write to a contact goes through here, so `nextDueAt` always matches its
 * inputs (last contact, frequency, circle). Users only ever touch their own rows:
 * another user's id is NOT_FOUND. Every write announces itself (`changes/announce.ts`):
 * the user's suggestions are regenerated and their live subscribers told.
 * Group writes (create, membership) are in `groups/groups.ts`.
 */
import { retryOnConflict } from '../db/retry-deadlock.ts'
import { z } from 'zod'
import type { Contact, Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { DunbarCircle, FrequencyPreference, InteractionKind } from '../generated/prisma/enums.ts'
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { WriteDeps } from '../changes/announce.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import { DEFAULT_QUOTAS } from '../config.ts'
import { takeQuota } from '../quotas.ts'
import { calendarDate, emailAddress, handle, parseInput, storableDate, storableString, text, timeZone } from '../validation.ts'
import { computeNextDueAt } from './cadence.ts'
import { recomputeInheritedCadence } from './inherited-cadence.ts'
import { matchKeysOf } from './match-keys.ts'
import { MINUTE_MS } from '../time.ts'

/**
 * The fields a CardDAV sync writes back to the server (issue 15): an edit of one of them on a contact with an
 * `accountId` adds its name to `remoteDirty`, and the next sync PUTs it with If-Match (sync/write-back.ts).
 */
export const SYNCED_CONTACT_FIELDS = ['name', 'email', 'phone'] as const
/** The `remoteDirty` marker of a contact created here that its account's server does not have yet. */
export const CREATE_MARKER = 'create'
/** One of {@link SYNCED_CONTACT_FIELDS}. */
export type SyncedContactField = (typeof SYNCED_CONTACT_FIELDS)[number]

/** The synced fields `data` gives a new value (a synced contact's edit to write back). */
function editedSyncedFields(contact: Pick<Contact, SyncedContactField>, data: { name?: string | undefined; email?: string | null | undefined; phone?: string | null | undefined }): SyncedContactField[] {
  return SYNCED_CONTACT_FIELDS.filter((field) => data[field] !== undefined && (data[field] ?? null) !== contact[field])
}

const contactFields = {
  name: text(200),
  email: emailAddress.nullish(),
  phone: storableString().trim().regex(/^\+?[\d\s().-]{3,30}$/, 'must be a phone number').nullish(),
  linkedIn: handle.nullish(),
  instagram: handle.nullish(),
  xHandle: handle.nullish(),
  location: text(200).nullish(),
  timezone: timeZone.nullish(),
  customNotes: storableString().max(10_000).nullish(),
  // null (GraphQL) clears the tags. Tags equal once trimmed are one tag (the first kept, in order).
  tags: z
    .array(text(50))
    .max(50)
    .nullish()
    .transform((tags) => (tags === null ? [] : tags === undefined ? undefined : [...new Set(tags)])),
  frequencyPreference: z.enum(FrequencyPreference).nullish(),
  dunbarCircle: z.enum(DunbarCircle).nullish(),
  lastContactDate: storableDate().nullish(),
  birthday: calendarDate().nullish(),
  anniversary: calendarDate().nullish(),
}

const createSchema = z.object(contactFields)
const updateSchema = z.object({ ...contactFields, name: contactFields.name.optional() })

/**
 * A new contact's fields, as clients send them: `name` (1-200 characters) required; `email`, `phone`
 * (3-30 of digits, spaces, `+().-`), `linkedIn` / `instagram` / `xHandle` (handles), `location`
 * (200), `timezone` (IANA), `customNotes` (10,000), `tags` (at most 50 of 50 characters),
 * `frequencyPreference`, `dunbarCircle`, `lastContactDate` (not in the future), `birthday` and `anniversary`
 * (`YYYY-MM-DD` or `--MM-DD`) optional.
 */
export type ContactInput = z.input<typeof createSchema>
/** The fields of {@link ContactInput} to change: undefined leaves one as it is, null clears it (`tags`: to none). */
export type ContactPatch = z.input<typeof updateSchema>

/**
 * The lists of e-mails or phones once the primary one is `next` (undefined: unchanged; null: none):
 * the old primary leaves the list, the new one leads it. A contact written before imports has its
 * primary only, which is its list.
 */
function withPrimary(list: readonly string[], primary: string | null, next: string | null | undefined): string[] {
  const current = list.length > 0 ? [...list] : primary ? [primary] : []
  if (next === undefined) return current
  const rest = current.filter((value) => value !== primary && value !== next)
  return next === null ? rest : [next, ...rest]
}

/**
 * The columns that follow a change of `contact`'s name, e-mail or phone (`data`: undefined unchanged, null
 * cleared), to write with the values in the same update: a new primary e-mail or phone leads its list and
 * the match keys an import finds the contact by follow; for a synced contact (an `accountId`), the fields
 * whose value changes join `remoteDirty`, so its account's next sync writes them back (sync/write-back.ts).
 */
export function columnsFollowingSyncedFields(
  contact: Pick<Contact, 'accountId' | 'remoteDirty' | SyncedContactField | 'emails' | 'phones'>,
  data: { name?: string | undefined; email?: string | null | undefined; phone?: string | null | undefined },
): { emails?: string[]; phones?: string[]; matchKeys?: string[]; remoteDirty?: string[] } {
  const lists =
    data.email === undefined && data.phone === undefined
      ? {}
      : (() => {
          const emails = withPrimary(contact.emails, contact.email, data.email)
          const phones = withPrimary(contact.phones, contact.phone, data.phone)
          return { emails, phones, matchKeys: matchKeysOf(emails, phones) }
        })()
  const edited = contact.accountId ? editedSyncedFields(contact, data) : []
  return edited.length > 0 ? { ...lists, remoteDirty: [...new Set([...contact.remoteDirty, ...edited])] } : lists
}

function notInFuture(date: Date | null | undefined, now: Date, field: string): void {
  if (date && date.getTime() > now.getTime() + MINUTE_MS) throw badUserInput(`${field} cannot be in the future`, field)
}

/**
 * The user's contact `id`, read with `prisma` (a transaction's client too).
 * @throws ClientError NOT_FOUND when it is not the user's (or not a UUID): existence never leaks.
 */
export async function ownContact(prisma: PrismaClient | Prisma.TransactionClient, userId: string, id: string): Promise<Contact> {
  const contact = isUuid(id) ? await prisma.contact.findFirst({ where: { id, userId } }) : null
  if (!contact) throw notFound('contact')
  return contact
}

/**
 * {@link ownContact} in a transaction, holding the row until it ends (`FOR UPDATE`): a write that
 * computes `nextDueAt` from the row it read cannot interleave with another one doing the same.
 * @throws ClientError NOT_FOUND as {@link ownContact}.
 */
async function lockOwnContact(tx: Prisma.TransactionClient, userId: string, id: string): Promise<Contact> {
  if (isUuid(id)) await tx.$queryRaw`SELECT 1 FROM "Contact" WHERE id = ${id}::uuid AND "userId" = ${userId}::uuid FOR UPDATE`
  return ownContact(tx, userId, id)
}

/**
 * Creates a contact of the user, with its `nextDueAt`, and announces a `contact` change.
 *
 * @param now the creation time (`createdAt`, and the bound `lastContactDate` may not pass by more than a minute).
 * @param maxContacts the user's quota of contacts.
 * @returns the created contact.
 * @throws ClientError BAD_USER_INPUT (with `field`) for invalid input; QUOTA_EXCEEDED when the user owns
 *   `maxContacts` already (counted on the user's row, same transaction).
 */
export async function createContact(
  { prisma, announce }: WriteDeps,
  userId: string,
  input: ContactInput,
  now: Date,
  maxContacts = DEFAULT_QUOTAS.contacts,
  syncTo?: string | undefined,
): Promise<Contact> {
  const data = parseInput(createSchema, input, 'input')
  notInFuture(data.lastContactDate, now, 'input.lastContactDate')
  const fields = {
    lastContactDate: data.lastContactDate ?? null,
    frequencyPreference: data.frequencyPreference ?? null,
    dunbarCircle: data.dunbarCircle ?? null,
    createdAt: now,
  }
  const contact = await prisma.$transaction(async (tx) => {
    // Created in a CardDAV account: its next sync PUTs the new card (sync/write-back.ts).
    const account = syncTo === undefined ? null : await tx.account.findFirst({ where: { id: syncTo, userId, kind: 'CARDDAV' }, select: { id: true } })
    if (syncTo !== undefined && !account) throw notFound('account')
    await takeQuota(tx, userId, 'contacts', maxContacts)
    return tx.contact.create({
      data: {
        ...data,
        ...fields,
        ...(account ? { accountId: account.id, source: 'CARDDAV' as const, remoteDirty: [CREATE_MARKER] } : {}),
        userId,
        tags: data.tags ?? [],
        // All e-mails and phones, and the keys an import finds this contact by (contacts/match-keys.ts).
        emails: data.email ? [data.email] : [],
        phones: data.phone ? [data.phone] : [],
        matchKeys: matchKeysOf(data.email ? [data.email] : [], data.phone ? [data.phone] : []),
        circleAssignedAt: data.dunbarCircle ? now : null, nextDueAt: computeNextDueAt(fields) },
    })
  })
  announce(userId, 'contact', { type: 'contact.created', data: { contactId: encodeGlobalID('Contact', contact.id) } })
  return contact
}

/**
 * Changes the given fields of the user's contact `id` (undefined: unchanged; null: cleared), recomputes
 * its `nextDueAt`, and announces a `contact` change. A `frequencyPreference` given is the contact's own
 * (the group defaults no longer apply); null clears it, and the contact falls back to its groups' default
 * (inherited-cadence.ts), else its circle's. A contact synced with an account (`accountId`) whose name,
 * e-mail or phone changes gets the field in `remoteDirty` (same write): the next sync writes it back.
 *
 * @param now the time of the change (`circleAssignedAt` when the circle changes; future bound of `lastContactDate`).
 * @returns the updated contact.
 * @throws ClientError BAD_USER_INPUT (with `field`) for invalid input; NOT_FOUND when the contact is not the user's.
 */
export async function updateContact({ prisma, announce }: WriteDeps, userId: string, id: string, patch: ContactPatch, now: Date): Promise<Contact> {
  const data = parseInput(updateSchema, patch, 'input')
  notInFuture(data.lastContactDate, now, 'input.lastContactDate')
  // The contact, then its groups (the cadence): a group's deletion locks the other way; a deadlock's victim runs again.
  const updated = await retryOnConflict(() => prisma.$transaction(async (tx) => {
    const contact = await lockOwnContact(tx, userId, id)
    const ownFrequency = data.frequencyPreference === undefined ? {} : { frequencyFromGroup: false }
    const next = {
      lastContactDate: data.lastContactDate === undefined ? contact.lastContactDate : data.lastContactDate,
      frequencyPreference: data.frequencyPreference === undefined ? contact.frequencyPreference : data.frequencyPreference,
      dunbarCircle: data.dunbarCircle === undefined ? contact.dunbarCircle : data.dunbarCircle,
      createdAt: contact.createdAt,
    }
    const circleChanged = data.dunbarCircle !== undefined && data.dunbarCircle !== contact.dunbarCircle
    const written = await tx.contact.update({
      where: { id: contact.id },
      data: {
        ...Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)),
        ...columnsFollowingSyncedFields(contact, data),
        ...ownFrequency,
        ...(circleChanged ? { circleAssignedAt: now } : {}),
        nextDueAt: computeNextDueAt(next),
      },
    })
    // No own frequency (cleared now, or inherited and the circle changed, which weighs a FLEXIBLE default):
    // the groups' default decides.
    if (written.frequencyPreference !== null && !written.frequencyFromGroup) return written
    const changed = await recomputeInheritedCadence(tx, userId, { contactIds: [contact.id] }, now)
    return changed > 0 ? tx.contact.findUniqueOrThrow({ where: { id: contact.id } }) : written
  }))
  const fields = Object.keys(data).filter((name) => (data as Record<string, unknown>)[name] !== undefined)
  announce(userId, 'contact', { type: 'contact.updated', data: { contactId: encodeGlobalID('Contact', updated.id), fields } })
  return updated
}

/**
 * Archives (`archived` true) or restores the user's contact `id`, and announces a `contact` change.
 * @returns the updated contact.
 * @throws ClientError NOT_FOUND when the contact is not the user's.
 */
export async function archiveContact({ prisma, announce }: WriteDeps, userId: string, id: string, archived: boolean): Promise<Contact> {
  const contact = await ownContact(prisma, userId, id)
  const updated = await prisma.contact.update({ where: { id: contact.id }, data: { archived } })
  const contactId = encodeGlobalID('Contact', updated.id)
  // A restore is an update of `archived`, not an event of its own.
  announce(userId, 'contact', archived ? { type: 'contact.archived', data: { contactId } } : { type: 'contact.updated', data: { contactId, fields: ['archived'] } })
  return updated
}

const interactionSchema = z.object({
  // null (GraphQL's "not given") means the defaults: now, OTHER.
  occurredAt: storableDate().nullish(),
  kind: z.enum(InteractionKind).nullish(),
  note: storableString().max(10_000).nullish(),
})

/**
 * Logs a touch with the user's contact `contactId`; when it is the latest, it moves `lastContactDate`
 * and so `nextDueAt` (one transaction). Announces an `interaction` change.
 *
 * @param input `occurredAt` (default `now`, at most a minute after it), `kind` (default OTHER), `note`.
 * @param now when the interaction is logged (`Interaction.createdAt`: it ends an acceptance, see suggestion-status.ts).
 * @returns the contact, updated or not.
 * @throws ClientError BAD_USER_INPUT (with `field`) for invalid input; NOT_FOUND when the contact is not the user's.
 */
export async function logInteraction(
  { prisma, announce }: WriteDeps,
  userId: string,
  contactId: string,
  input: z.input<typeof interactionSchema>,
  now: Date,
): Promise<Contact> {
  const data = parseInput(interactionSchema, input, 'input')
  const occurredAt = data.occurredAt ?? now
  notInFuture(occurredAt, now, 'input.occurredAt')
  const contact = await prisma.$transaction(async (tx) => {
    const contact = await lockOwnContact(tx, userId, contactId)
    await tx.interaction.create({
      // createdAt on the caller's clock: an acceptance ends with the first interaction logged after it (suggestion-status.ts).
      data: { userId, contactId: contact.id, occurredAt, kind: data.kind ?? 'OTHER', note: data.note ?? null, createdAt: now },
    })
    if (contact.lastContactDate && contact.lastContactDate >= occurredAt) return contact
    return tx.contact.update({
      where: { id: contact.id },
      data: { lastContactDate: occurredAt, nextDueAt: computeNextDueAt({ ...contact, lastContactDate: occurredAt }) },
    })
  })
  announce(userId, 'interaction', {
    type: 'interaction.logged',
    data: { contactId: encodeGlobalID('Contact', contact.id), occurredAt: occurredAt.toISOString(), kind: data.kind ?? 'OTHER' },
  })
  return contact
}
