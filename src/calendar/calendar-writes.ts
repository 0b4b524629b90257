/**
 * The user's availability (weekly windows) and busy calendar events. Every write announces
 * itself (`changes/announce.ts`): the user's suggestions are regenerated and their live subscribers told.
 */
import { z } from 'zod'
import type { WriteDeps } from '../changes/announce.ts'
import type { Availability, CalendarEvent } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { weeklyWindowSchema } from './free-slots.ts'
import { notFound } from '../errors.ts'
import { DEFAULT_QUOTAS } from '../config.ts'
import { giveQuota, takeQuota } from '../quotas.ts'
import { parseInput, storableDate, storableString, timeZone } from '../validation.ts'
import { DAY_MS } from '../time.ts'

const windowsSchema = z.array(weeklyWindowSchema).max(100)

/**
 * Replaces the user's weekly windows (and their time zone when given), atomically, and announces an
 * `availability` change.
 *
 * @param windows at most 100: ISO `weekday` 1..7, `startMinute` 0..1439 before `endMinute` 1..1440
 *   (minutes after local midnight, in the user's time zone).
 * @param timezone an IANA time zone; null or absent: unchanged.
 * @returns the user's windows, by weekday then start.
 * @throws ClientError BAD_USER_INPUT (with `field`) for a bad window or time zone.
 */
export async function setAvailability(
  { prisma, announce }: WriteDeps,
  userId: string,
  windows: z.input<typeof windowsSchema>,
  timezone?: string | null,
): Promise<Availability[]> {
  const parsed = parseInput(windowsSchema, windows, 'windows')
  const zone = timezone == null ? undefined : parseInput(timeZone, timezone, 'timezone')
  const stored = await prisma.$transaction(async (tx) => {
    await tx.availability.deleteMany({ where: { userId } })
    await tx.availability.createMany({ data: parsed.map((w) => ({ ...w, userId })) })
    if (zone) await tx.user.update({ where: { id: userId }, data: { timezone: zone } })
    return tx.availability.findMany({ where: { userId }, orderBy: [{ weekday: 'asc' }, { startMinute: 'asc' }] })
  })
  announce(userId, 'availability')
  return stored
}

const eventSchema = z
  .object({ title: storableString().trim().max(200).nullish(), startsAt: storableDate(), endsAt: storableDate() })
  .refine((e) => e.endsAt > e.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((e) => e.endsAt.getTime() - e.startsAt.getTime() <= 31 * DAY_MS, { message: 'at most 31 days', path: ['endsAt'] })

/**
 * Adds a busy event of the user (no suggestion is placed over it), and announces a `calendar` change.
 *
 * @param input `title` (at most 200 characters), `startsAt` before `endsAt`, at most 31 days long.
 * @param maxEvents the user's quota of calendar events.
 * @returns the created event.
 * @throws ClientError BAD_USER_INPUT (with `field`) for a bad title or times; QUOTA_EXCEEDED past `maxEvents`.
 */
export async function addCalendarEvent(
  { prisma, announce }: WriteDeps,
  userId: string,
  input: z.input<typeof eventSchema>,
  maxEvents = DEFAULT_QUOTAS.calendarEvents,
): Promise<CalendarEvent> {
  const event = parseInput(eventSchema, input, 'input')
  const created = await prisma.$transaction(async (tx) => {
    await takeQuota(tx, userId, 'calendarEvents', maxEvents)
    return tx.calendarEvent.create({ data: { userId, title: event.title ?? null, startsAt: event.startsAt, endsAt: event.endsAt } })
  })
  announce(userId, 'calendar')
  return created
}

/**
 * Removes the user's event `id` (giving its quota unit back), and announces a `calendar` change.
 * @returns true.
 * @throws ClientError NOT_FOUND when the event is not the user's (or `id` is not a UUID).
 */
export async function removeCalendarEvent({ prisma, announce }: WriteDeps, userId: string, id: string): Promise<true> {
  if (!isUuid(id)) throw notFound('calendar event')
  await prisma.$transaction(async (tx) => {
    const deleted = await tx.calendarEvent.deleteMany({ where: { id, userId } })
    if (deleted.count === 0) throw notFound('calendar event')
    await giveQuota(tx, userId, 'calendarEvents', deleted.count)
  })
  announce(userId, 'calendar')
  return true
}
