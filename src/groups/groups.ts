/**
 * The user's groups: creating, renaming, deleting one and setting its default cadence, setting a
 * contact's membership, and reading them all at once. A contact keeps its groups as `groupIds`; every
 * group is the user's own (another user's id is NOT_FOUND). A group's default cadence is materialized on
 * its members (contacts/inherited-cadence.ts): every write here that changes it recomputes them in its
 * transaction. The writes announce themselves (`changes/announce.ts`).
 */
import { z } from 'zod'
import type { WriteDeps } from '../changes/announce.ts'
import { ownContact } from '../contacts/contact-writes.ts'
import { recomputeInheritedCadence } from '../contacts/inherited-cadence.ts'
import { retryOnConflict } from '../db/retry-deadlock.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import type { Contact, Group, Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { FrequencyPreference } from '../generated/prisma/enums.ts'
import { DEFAULT_QUOTAS } from '../config.ts'
import { giveQuota, takeQuota } from '../quotas.ts'
import { parseInput, text } from '../validation.ts'

/** Most groups one contact may belong to. */
export const MAX_GROUPS_PER_CONTACT = 100

const groupName = text(100)
const frequency = z.enum(FrequencyPreference).nullish()
/** A contact's groups, duplicates removed: at most {@link MAX_GROUPS_PER_CONTACT}. */
const groupIdsSchema = z.array(z.string()).max(MAX_GROUPS_PER_CONTACT, `at most ${MAX_GROUPS_PER_CONTACT} groups`)

/**
 * Holds the user's row until the transaction ends: every write that can give a group a name (create,
 * rename, an import's new groups) takes it, so two of them run one after the other and the later one
 * sees the first's name in {@link nameFree} instead of failing on the (userId, name) unique index.
 */
async function lockUser(tx: Prisma.TransactionClient, userId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`
}

/** Throws BAD_USER_INPUT (`field`) when the user has a group named `name` other than `exceptId`. */
async function nameFree(client: Pick<PrismaClient, 'group'>, userId: string, name: string, field: string, exceptId?: string): Promise<void> {
  const taken = await client.group.findFirst({ where: { userId, name, ...(exceptId ? { id: { not: exceptId } } : {}) }, select: { id: true } })
  if (taken) throw badUserInput(`a group named "${name}" exists`, field)
}

/**
 * Creates a group of the user named `name` (trimmed, 1..100 characters), with an optional default
 * cadence for its members, and announces a `group` change.
 *
 * @param maxGroups the user's quota of groups.
 * @returns the created group.
 * @throws ClientError BAD_USER_INPUT (`name`, `defaultFrequency`) for a bad or taken name or an unknown
 *   frequency; QUOTA_EXCEEDED past `maxGroups`.
 */
export async function createGroup(
  { prisma, announce }: WriteDeps,
  userId: string,
  name: string,
  maxGroups = DEFAULT_QUOTAS.groups,
  defaultFrequency: FrequencyPreference | null = null,
): Promise<Group> {
  const clean = parseInput(groupName, name, 'name')
  const cadence = parseInput(frequency, defaultFrequency, 'defaultFrequency') ?? null
  await nameFree(prisma, userId, clean, 'name')
  // A new group has no members yet: nobody's cadence changes.
  const group = await prisma.$transaction(async (tx) => {
    // Taking the quota locks the user's row: concurrent creates of one name run one after the other,
    // and the later ones see the first here (instead of failing on the unique index).
    await takeQuota(tx, userId, 'groups', maxGroups)
    await nameFree(tx, userId, clean, 'name')
    return tx.group.create({ data: { userId, name: clean, defaultFrequency: cadence } })
  })
  announce(userId, 'group')
  return group
}

/** The fields of a group to change: undefined leaves one as it is; a null `defaultFrequency` clears it. */
export interface GroupPatch {
  name?: string | null
  defaultFrequency?: FrequencyPreference | null
}

/** The user's group `id`, locked until the transaction ends; NOT_FOUND when it is not the user's. */
async function lockOwnGroup(tx: Prisma.TransactionClient, userId: string, id: string): Promise<Group> {
  const rows = isUuid(id) ? await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Group" WHERE id = ${id}::uuid AND "userId" = ${userId}::uuid FOR UPDATE` : []
  const group = rows.length > 0 ? await tx.group.findUnique({ where: { id } }) : null
  if (!group) throw notFound('group')
  return group
}

/**
 * Renames the user's group `id` and/or sets its default cadence; a changed default recomputes its
 * members' cadence (same transaction). Announces a `group` change.
 *
 * @param now the time of the change (`updatedAt` of the members whose cadence changed).
 * @returns the updated group.
 * @throws ClientError BAD_USER_INPUT (`input.name`: bad, null or taken; `input.defaultFrequency`);
 *   NOT_FOUND when the group is not the user's.
 */
export async function updateGroup({ prisma, announce }: WriteDeps, userId: string, id: string, patch: GroupPatch, now: Date): Promise<Group> {
  if (patch.name === null) throw badUserInput('name cannot be null', 'input.name')
  const name = patch.name === undefined ? undefined : parseInput(groupName, patch.name, 'input.name')
  const cadence = patch.defaultFrequency === undefined ? undefined : (parseInput(frequency, patch.defaultFrequency, 'input.defaultFrequency') ?? null)
  const group = await retryOnConflict(() => prisma.$transaction(async (tx) => {
    // The group first, then the user (deleteGroup's order: group, then the quota on the user's row).
    const group = await lockOwnGroup(tx, userId, id)
    if (name !== undefined) {
      await lockUser(tx, userId)
      await nameFree(tx, userId, name, 'input.name', group.id)
    }
    const updated = await tx.group.update({
      where: { id: group.id },
      data: { ...(name === undefined ? {} : { name }), ...(cadence === undefined ? {} : { defaultFrequency: cadence }) },
    })
    // A rename can change which of two equal defaults names the rule, not the cadence: only the default matters.
    if (cadence !== undefined && cadence !== group.defaultFrequency) await recomputeInheritedCadence(tx, userId, { groupId: group.id }, now)
    return updated
  }))
  announce(userId, 'group')
  return group
}

/**
 * Deletes the user's group `id`: its members leave it and their cadence is recomputed (one transaction),
 * and the groups quota is given back. Announces a `group` change when it existed.
 *
 * @returns true when the group existed (false: unknown or another user's, nothing announced).
 */
export async function deleteGroup({ prisma, announce }: WriteDeps, userId: string, id: string, now: Date): Promise<boolean> {
  if (!isUuid(id)) return false
  // Its locks (group, then members) cross a membership change's (contact, then groups): a deadlock's victim runs again.
  const deleted = await retryOnConflict(() => prisma.$transaction(async (tx) => {
    const found = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Group" WHERE id = ${id}::uuid AND "userId" = ${userId}::uuid FOR UPDATE`
    if (found.length === 0) return false
    const members = await tx.$queryRaw<{ id: string }[]>`
      UPDATE "Contact" SET "groupIds" = array_remove("groupIds", ${id}::uuid), "updatedAt" = ${now.toISOString()}::timestamp
      WHERE "userId" = ${userId}::uuid AND "groupIds" @> ARRAY[${id}::uuid] RETURNING id::text`
    await tx.group.delete({ where: { id } })
    await giveQuota(tx, userId, 'groups', 1)
    if (members.length > 0) await recomputeInheritedCadence(tx, userId, { contactIds: members.map((member) => member.id) }, now)
    return true
  }))
  if (deleted) announce(userId, 'group')
  return deleted
}

/**
 * Replaces the groups of the user's contact `contactId` with `groupIds` (duplicates count once),
 * and announces a `groups` change.
 *
 * @param now the time of the change (`updatedAt` when the cadence it implies changes).
 * @returns the updated contact, with the cadence its groups give it when it has none of its own.
 * @throws ClientError BAD_USER_INPUT (`groupIds`) past {@link MAX_GROUPS_PER_CONTACT}; NOT_FOUND when the
 *   contact, or any of the groups, is not the user's.
 */
export async function setContactGroups(
  { prisma, announce }: WriteDeps,
  userId: string,
  contactId: string,
  groupIds: string[],
  now: Date,
): Promise<Contact> {
  // Lower case: PostgreSQL's text form of a uuid, which the check under the lock compares with.
  const unique = parseInput(groupIdsSchema, [...new Set(groupIds.map((groupId) => groupId.toLowerCase()))], 'groupIds')
  const contact = await ownContact(prisma, userId, contactId)
  if (!unique.every(isUuid)) throw notFound('group')
  // The membership and the cadence it implies (a group default, or none any more) in one transaction.
  const updated = await retryOnConflict(() => prisma.$transaction(async (tx) => {
    // The groups left and joined, held against a concurrent change of their default or deletion
    // (updateGroup and deleteGroup lock the row FOR UPDATE): whichever commits second sees the other's
    // write. The joined groups are checked here, under the lock: checked before it, a group deleted
    // meanwhile was left in the contact's groupIds.
    const touched = [...new Set([...contact.groupIds, ...unique])]
    const locked =
      touched.length > 0
        ? await tx.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM "Group" WHERE id = ANY(${touched}::uuid[]) AND "userId" = ${userId}::uuid ORDER BY id FOR SHARE`
        : []
    const present = new Set(locked.map((row) => row.id))
    if (!unique.every((groupId) => present.has(groupId))) throw notFound('group')
    await tx.contact.update({ where: { id: contact.id }, data: { groupIds: unique } })
    await recomputeInheritedCadence(tx, userId, { contactIds: [contact.id] }, now)
    return tx.contact.findUniqueOrThrow({ where: { id: contact.id } })
  }))
  announce(userId, 'groups')
  return updated
}

/**
 * How many active (not archived) contacts of the user are in each of their groups, in one query
 * (groups without any are absent: 0).
 */
export async function memberCounts(prisma: PrismaClient, userId: string): Promise<Map<string, number>> {
  const rows = await prisma.$queryRaw<{ id: string; count: number }[]>`
    SELECT g.id::text AS id, count(*)::int AS count FROM "Contact" c CROSS JOIN LATERAL unnest(c."groupIds") AS g(id)
    WHERE c."userId" = ${userId}::uuid AND NOT c.archived GROUP BY g.id`
  return new Map(rows.map((row) => [row.id, Number(row.count)]))
}

/** The user's groups by id, in name order: a contact page resolves every contact's `groupIds` from one query. */
export async function groupsOfUser(prisma: PrismaClient, userId: string): Promise<Map<string, Group>> {
  const groups = await prisma.group.findMany({ where: { userId }, orderBy: [{ name: 'asc' }, { id: 'asc' }] })
  return new Map(groups.map((group) => [group.id, group]))
}
