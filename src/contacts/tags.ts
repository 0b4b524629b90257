/**
 * A user's tags as a whole: listing them with their counts, renaming one (merging into an existing
 * tag) and deleting one, each ONE statement over the user's contacts. Tags live on the contacts
 * (`Contact.tags`); a tag exists while a contact has it. The writes announce a `contact` change
 * when they changed any contact (`changes/announce.ts`).
 */
import type { WriteDeps } from '../changes/announce.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { parseInput, text } from '../validation.ts'

/** Most tags {@link tagsOfUser} lists. */
export const MAX_LISTED_TAGS = 1000

/** A tag as the text contacts carry: trimmed, 1..50 characters (as `tags` of a contact input). */
const tagText = text(50)

/** A tag and how many active (not archived) contacts have it. */
export interface TagCount {
  name: string
  contactCount: number
}

/**
 * The user's tags by name (at most {@link MAX_LISTED_TAGS}), each with its count of active contacts
 * (0 for a tag only archived contacts have), in one query. A contact counts once per tag, even one
 * stored with the tag twice (written before inputs were deduplicated).
 */
export async function tagsOfUser(prisma: PrismaClient, userId: string): Promise<TagCount[]> {
  const rows = await prisma.$queryRaw<{ name: string; contactCount: number }[]>`
    SELECT t.name, (count(DISTINCT c.id) FILTER (WHERE NOT c.archived))::int AS "contactCount"
    FROM "Contact" c CROSS JOIN LATERAL unnest(c.tags) AS t(name)
    WHERE c."userId" = ${userId}::uuid
    GROUP BY t.name ORDER BY t.name LIMIT ${MAX_LISTED_TAGS}`
  return rows.map((row) => ({ name: row.name, contactCount: Number(row.contactCount) }))
}

/**
 * Renames the tag `from` to `to` on every contact of the user that has it (archived ones too); a contact
 * that has both keeps one `to` (merged, at the first of their places), and no tag twice. Announces a `contact` change when a contact changed.
 *
 * @param now the time of the change (`updatedAt` of the changed contacts).
 * @returns how many contacts changed (0 when none has `from`, or `from` is `to`).
 * @throws ClientError BAD_USER_INPUT (`from`, `to`) for text that is not a tag (empty, over 50 characters).
 */
export async function renameTag({ prisma, announce }: WriteDeps, userId: string, from: string, to: string, now: Date): Promise<number> {
  const old = parseInput(tagText, from, 'from')
  const next = parseInput(tagText, to, 'to')
  if (old === next) return 0
  const changed = await prisma.$executeRaw`
    UPDATE "Contact" SET
      tags = ARRAY(SELECT t FROM unnest(array_replace(tags, ${old}, ${next})) WITH ORDINALITY AS u(t, n) GROUP BY t ORDER BY min(n)),
      "updatedAt" = ${now.toISOString()}::timestamp
    WHERE "userId" = ${userId}::uuid AND tags @> ARRAY[${old}]`
  if (changed > 0) announce(userId, 'contact')
  return changed
}

/**
 * Removes the tag `name` from every contact of the user that has it (archived ones too). Announces a
 * `contact` change when a contact changed.
 *
 * @param now the time of the change (`updatedAt` of the changed contacts).
 * @returns how many contacts changed.
 * @throws ClientError BAD_USER_INPUT (`name`) for text that is not a tag.
 */
export async function deleteTag({ prisma, announce }: WriteDeps, userId: string, name: string, now: Date): Promise<number> {
  const tag = parseInput(tagText, name, 'name')
  const changed = await prisma.$executeRaw`
    UPDATE "Contact" SET tags = array_remove(tags, ${tag}), "updatedAt" = ${now.toISOString()}::timestamp WHERE "userId" = ${userId}::uuid AND tags @> ARRAY[${tag}]`
  if (changed > 0) announce(userId, 'contact')
  return changed
}
