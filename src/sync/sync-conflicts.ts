/**
 * The user's answer to a sync conflict (issue 15). A SyncConflict is written by write-back.ts when a
 * field (`name`, `email`, `phone`) changed both here and on the server: the server's value won and is
 * the contact's, the value it replaced is kept in the row (`localValue`). Resolving it either keeps the
 * server's value (REMOTE: nothing else changes) or puts the local value back (LOCAL: written to the
 * contact as an edit made here, so the field joins `remoteDirty` and the account's next sync PUTs the
 * card with If-Match, write-back.ts). Either way the conflict, and any older open conflict of the same
 * contact's same field (a question the later one superseded), is resolved and no longer listed as open.
 */
import { columnsFollowingSyncedFields, SYNCED_CONTACT_FIELDS, type SyncedContactField } from '../contacts/contact-writes.ts'
import type { WriteDeps } from '../changes/announce.ts'
import { retryOnConflict } from '../db/retry-deadlock.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import type { Contact, SyncConflict } from '../generated/prisma/client.ts'

/** Which side of a conflict the user keeps: the value set here, or the server's. */
export type SyncConflictChoice = 'LOCAL' | 'REMOTE'

const isSyncedField = (field: string): field is SyncedContactField => (SYNCED_CONTACT_FIELDS as readonly string[]).includes(field)

/**
 * Resolves the user's sync conflict `id` by keeping `keep` (see the module comment), at `now`. A
 * conflict resolved already is answered as it is (the first answer stands; nothing is written again).
 * Keeping LOCAL writes the conflict's local value whatever the field holds now (the user chose it); a
 * name the conflict has no local value for stays as it is (a contact always has a name).
 *
 * @returns the conflict as stored after the answer (`resolvedAt` set) and the contact when it changed
 *   (LOCAL: its account's sync is to be queued when `remoteDirty` is not empty), else null.
 * @throws ClientError BAD_USER_INPUT (`id`) when `id` is not a UUID; NOT_FOUND when the conflict is not
 *   the user's (another user's and an unknown id alike).
 */
export async function resolveSyncConflict(
  { prisma, announce }: WriteDeps,
  userId: string,
  id: string,
  keep: SyncConflictChoice,
  now: Date,
): Promise<{ conflict: SyncConflict; contact: Contact | null }> {
  if (!isUuid(id)) throw badUserInput('id: not a sync conflict id', 'id')
  const outcome = await retryOnConflict(() =>
    prisma.$transaction(async (tx) => {
      const found = await tx.syncConflict.findFirst({ where: { id, userId } })
      if (!found) throw notFound('sync conflict')
      if (found.resolvedAt) return { conflict: found, contact: null }
      // The contact first, then its conflicts: the order write-back.ts takes them in.
      await tx.$queryRaw`SELECT 1 FROM "Contact" WHERE id = ${found.contactId}::uuid FOR UPDATE`
      const claimed = await tx.syncConflict.updateMany({ where: { id, resolvedAt: null }, data: { resolvedAt: now } })
      // Answered meanwhile (another tab): that answer stands.
      if (claimed.count === 0) return { conflict: await tx.syncConflict.findUniqueOrThrow({ where: { id } }), contact: null }
      await tx.syncConflict.updateMany({
        where: { userId, contactId: found.contactId, field: found.field, resolvedAt: null, createdAt: { lte: found.createdAt } },
        data: { resolvedAt: now },
      })
      const conflict = await tx.syncConflict.findUniqueOrThrow({ where: { id } })
      const field = found.field
      if (keep === 'REMOTE' || !isSyncedField(field) || (field === 'name' && found.localValue === null)) return { conflict, contact: null }
      const current = await tx.contact.findUniqueOrThrow({ where: { id: found.contactId } })
      const change = { [field]: found.localValue }
      const contact = await tx.contact.update({ where: { id: current.id }, data: { ...change, ...columnsFollowingSyncedFields(current, change) } })
      return { conflict, contact }
    }),
  )
  if (outcome.contact) announce(userId, 'contact')
  return outcome
}
