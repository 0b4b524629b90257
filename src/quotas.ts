/**
 * Per-user quotas on what a user can create: contacts, groups, calendar events.
 *
 * Cheap at any size: the user's row keeps a counter per kind (`contactCount`,
 * `groupCount`, `calendarEventCount`), taken in the same transaction as the
 * insert by one conditional update (`... SET n = n + 1 WHERE id = $1 AND n < limit`),
 * so a check never counts a million rows, and two concurrent creates cannot both
 * take the last unit (the row lock orders them). Deletes give their unit back in
 * their transaction. Bulk seeding sets the counters once per user. The limits
 * ({@link Quotas}, their defaults) live in config.ts, which reads them from the environment.
 */
import type { Prisma, PrismaClient } from './generated/prisma/client.ts'
import { ClientError } from './errors.ts'
import type { Quotas } from './config.ts'

type Client = PrismaClient | Prisma.TransactionClient

const LABELS: Record<keyof Quotas, string> = { contacts: 'contacts', groups: 'groups', calendarEvents: 'calendar events' }

/** The counter column of each kind: a conditional increment, and a decrement. */
const COUNTERS = {
  contacts: {
    take: (tx: Client, userId: string, limit: number, n: number) =>
      tx.user.updateMany({ where: { id: userId, contactCount: { lte: limit - n } }, data: { contactCount: { increment: n } } }),
    give: (tx: Client, userId: string, n: number) => tx.user.updateMany({ where: { id: userId }, data: { contactCount: { decrement: n } } }),
  },
  groups: {
    take: (tx: Client, userId: string, limit: number, n: number) =>
      tx.user.updateMany({ where: { id: userId, groupCount: { lte: limit - n } }, data: { groupCount: { increment: n } } }),
    give: (tx: Client, userId: string, n: number) => tx.user.updateMany({ where: { id: userId }, data: { groupCount: { decrement: n } } }),
  },
  calendarEvents: {
    take: (tx: Client, userId: string, limit: number, n: number) =>
      tx.user.updateMany({ where: { id: userId, calendarEventCount: { lte: limit - n } }, data: { calendarEventCount: { increment: n } } }),
    give: (tx: Client, userId: string, n: number) =>
      tx.user.updateMany({ where: { id: userId }, data: { calendarEventCount: { decrement: n } } }),
  },
} satisfies Record<keyof Quotas, unknown>

/** The refusal: `QUOTA_EXCEEDED` with `extensions.limit` and `extensions.resource`. */
export function quotaExceeded(resource: keyof Quotas, limit: number): ClientError {
  return new ClientError('QUOTA_EXCEEDED', `Quota reached: at most ${limit} ${LABELS[resource]} per user`, { limit, resource })
}

/**
 * Takes `n` units (default one) of the user's `resource` quota; call it inside the transaction
 * that inserts the rows. Throws QUOTA_EXCEEDED (nothing taken) when the user
 * would then own more than `limit`.
 */
export async function takeQuota(tx: Client, userId: string, resource: keyof Quotas, limit: number, n = 1): Promise<void> {
  if (n <= 0) return
  const { count } = await COUNTERS[resource].take(tx, userId, limit, n)
  if (count === 0) throw quotaExceeded(resource, limit)
}

/** Gives back `n` units (rows deleted); call it inside the transaction that deletes them. */
export async function giveQuota(tx: Client, userId: string, resource: keyof Quotas, n: number): Promise<void> {
  if (n > 0) await COUNTERS[resource].give(tx, userId, n)
}

/** The counter column of each kind, for {@link takeQuotaUpTo}'s SQL (fixed names, never input). */
const COUNTER_COLUMNS: Record<keyof Quotas, string> = { contacts: 'contactCount', groups: 'groupCount', calendarEvents: 'calendarEventCount' }

/**
 * Takes up to `n` units of the user's `resource` quota at once (a bulk insert: an import batch), in
 * the transaction that inserts the rows; the user's row stays locked until it ends (FOR UPDATE).
 * @returns how many were granted, 0..n (fewer when the user is near `limit`; the caller refuses the rest).
 */
export async function takeQuotaUpTo(tx: Client, userId: string, resource: keyof Quotas, n: number, limit: number): Promise<number> {
  if (n <= 0) return 0
  const column = COUNTER_COLUMNS[resource]
  // Read under the row lock, then add what fits (one statement cannot: a CTE that locks the row it updates reads nothing).
  const [row] = await tx.$queryRawUnsafe<{ count: number }[]>(`SELECT "${column}"::int AS count FROM "User" WHERE id = $1::uuid FOR UPDATE`, userId)
  const granted = row ? Math.max(0, Math.min(n, limit - row.count)) : 0
  if (granted > 0) await tx.$executeRawUnsafe(`UPDATE "User" SET "${column}" = "${column}" + $2::int WHERE id = $1::uuid`, userId, granted)
  return granted
}
