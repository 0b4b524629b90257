/**
 * The user's iCalendar feed of accepted suggestions at a secret URL (`/feeds/<secret>.ics`):
 * the secret is the credential, so only its SHA-256 is stored (User.calendarFeedHash), it is
 * shown once (by {@link rotateCalendarFeed}), and finding its user is one indexed lookup of the
 * hash: no comparison whose time depends on how much of a guess was right.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.ts'

/** 32 random bytes (256 bits) in base64url: 43 characters. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex')

/** Whether a string can be a feed secret at all (checked before hashing or querying). */
export const looksLikeFeedSecret = (secret: string): boolean => SECRET_PATTERN.test(secret)

export interface CalendarFeed {
  /** When the current secret was made. */
  createdAt: Date
  /** Only in the answer of {@link rotateCalendarFeed}: the secret is never stored in clear. */
  secret: string | null
}

/** The user's feed (without its secret), or null when they have none. */
export async function calendarFeedOf(prisma: PrismaClient, userId: string): Promise<CalendarFeed | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { calendarFeedHash: true, calendarFeedCreatedAt: true } })
  if (!user?.calendarFeedHash || !user.calendarFeedCreatedAt) return null
  return { createdAt: user.calendarFeedCreatedAt, secret: null }
}

/** Makes a new secret for the user's feed (the old one stops working at once) and returns it, once. */
export async function rotateCalendarFeed(prisma: PrismaClient, userId: string, now: Date): Promise<CalendarFeed & { secret: string }> {
  const secret = randomBytes(32).toString('base64url')
  await prisma.user.update({ where: { id: userId }, data: { calendarFeedHash: hashSecret(secret), calendarFeedCreatedAt: now } })
  return { createdAt: now, secret }
}

/** Turns the user's feed off; true when there was one. */
export async function revokeCalendarFeed(prisma: PrismaClient, userId: string): Promise<boolean> {
  const { count } = await prisma.user.updateMany({ where: { id: userId, calendarFeedHash: { not: null } }, data: { calendarFeedHash: null, calendarFeedCreatedAt: null } })
  return count > 0
}

/** The user whose feed has this secret, or null (malformed, unknown, rotated away or revoked). */
export async function userOfFeedSecret(prisma: PrismaClient, secret: string): Promise<string | null> {
  if (!looksLikeFeedSecret(secret)) return null
  const user = await prisma.user.findUnique({ where: { calendarFeedHash: hashSecret(secret) }, select: { id: true } })
  return user?.id ?? null
}

/** The feed's URL: `<origin>/feeds/<secret>.ics`. */
export const feedUrl = (origin: string, secret: string): string => `${origin.replace(/\/+$/, '')}/feeds/${secret}.ics`
