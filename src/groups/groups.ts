/**
 * The user's groups: creating one, setting a contact's membership, and reading them
 * all at once. A contact keeps its groups as `groupIds`; every group is the user's own
 * (another user's id is NOT_FOUND). The writes announce themselves (`changes/announce.ts`).
 */
import type { WriteDeps } from '../changes/announce.ts'
import { ownContact } from '../contacts/contact-writes.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import type { Contact, Group, PrismaClient } from '../generated/prisma/client.ts'
import { DEFAULT_QUOTAS } from '../config.ts'
import { takeQuota } from '../quotas.ts'
import { parseInput, text } from '../validation.ts'

/** Most groups one contact may belong to. */
export const MAX_GROUPS_PER_CONTACT = 100

/**
 * Creates a group of the user named `name` (trimmed, 1..100 characters), and announces a `group` change.
 *
 * @param maxGroups the user's quota of groups.
 * @returns the created group.
 * @throws ClientError BAD_USER_INPUT (`name`) for a bad or taken name; QUOTA_EXCEEDED past `maxGroups`.
 */
export async function createGroup({ prisma, announce }: WriteDeps, userId: string, name: string, maxGroups = DEFAULT_QUOTAS.groups): Promise<Group> {
  const clean = parseInput(text(100), name, 'name')
  const exists = async (client: Pick<PrismaClient, 'group'>) => {
    if (await client.group.findFirst({ where: { userId, name: clean }, select: { id: true } })) {
      throw badUserInput(`a group named "${clean}" exists`, 'name')
    }
  }
  await exists(prisma)
  const group = await prisma.$transaction(async (tx) => {
    // Taking the quota locks the user's row: concurrent creates of one name run one after the other,
    // and the later ones see the first here (instead of failing on the unique index).
    await takeQuota(tx, userId, 'groups', maxGroups)
    await exists(tx)
    return tx.group.create({ data: { userId, name: clean } })
  })
  announce(userId, 'group')
  return group
}

/**
 * Replaces the groups of the user's contact `contactId` with `groupIds` (duplicates count once),
 * and announces a `groups` change.
 *
 * @returns the updated contact.
 * @throws ClientError BAD_USER_INPUT (`groupIds`) past {@link MAX_GROUPS_PER_CONTACT}; NOT_FOUND when the
 *   contact, or any of the groups, is not the user's.
 */
export async function setContactGroups({ prisma, announce }: WriteDeps, userId: string, contactId: string, groupIds: string[]): Promise<Contact> {
  const unique = [...new Set(groupIds)]
  if (unique.length > MAX_GROUPS_PER_CONTACT) throw badUserInput(`at most ${MAX_GROUPS_PER_CONTACT} groups`, 'groupIds')
  const contact = await ownContact(prisma, userId, contactId)
  const owned = unique.every(isUuid) ? await prisma.group.count({ where: { userId, id: { in: unique } } }) : -1
  if (owned !== unique.length) throw notFound('group')
  const updated = await prisma.contact.update({ where: { id: contact.id }, data: { groupIds: unique } })
  announce(userId, 'groups')
  return updated
}

/** The user's groups by id, in name order: a contact page resolves every contact's `groupIds` from one query. */
export async function groupsOfUser(prisma: PrismaClient, userId: string): Promise<Map<string, Group>> {
  const groups = await prisma.group.findMany({ where: { userId }, orderBy: [{ name: 'asc' }, { id: 'asc' }] })
  return new Map(groups.map((group) => [group.id, group]))
}
