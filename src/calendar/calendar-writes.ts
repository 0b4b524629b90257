/** The user's availability (weekly windows) and busy calendar events. */
import { z } from 'zod'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { weeklyWindowSchema } from './free-slots.ts'
import { notFound } from '../errors.ts'
import { DEFAULT_QUOTAS, giveQuota, takeQuota } from '../quotas.ts'
import { parseInput, storableDate, storableString, timeZone } from '../validation.ts'
import { DAY_MS } from '../time.ts'

const windowsSchema = z.array(weeklyWindowSchema).max(100)

/** Replaces the weekly windows (and the user's time zone when given), atomically. */
export async function setAvailability(
  prisma: PrismaClient,
  userId: string,
  windows: z.input<typeof windowsSchema>,
  timezone?: string | null,
) {
  const parsed = parseInput(windowsSchema, windows, 'windows')
  const zone = timezone == null ? undefined : parseInput(timeZone, timezone, 'timezone')
  return prisma.$transaction(async (tx) => {
    await tx.availability.deleteMany({ where: { userId } })
    await tx.availability.createMany({ data: parsed.map((w) => ({ ...w, userId })) })
    if (zone) await tx.user.update({ where: { id: userId }, data: { timezone: zone } })
    return tx.availability.findMany({ where: { userId }, orderBy: [{ weekday: 'asc' }, { startMinute: 'asc' }] })
  })
}

const eventSchema = z
  .object({ title: storableString().trim().max(200).nullish(), startsAt: storableDate(), endsAt: storableDate() })
  .refine((e) => e.endsAt > e.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((e) => e.endsAt.getTime() - e.startsAt.getTime() <= 31 * DAY_MS, { message: 'at most 31 days', path: ['endsAt'] })

/** Adds a busy event. Throws BAD_USER_INPUT for a bad title or times, QUOTA_EXCEEDED past `maxEvents`. */
export async function addCalendarEvent(
  prisma: PrismaClient,
  userId: string,
  input: z.input<typeof eventSchema>,
  maxEvents = DEFAULT_QUOTAS.calendarEvents,
) {
  const event = parseInput(eventSchema, input, 'input')
  return prisma.$transaction(async (tx) => {
    await takeQuota(tx, userId, 'calendarEvents', maxEvents)
    return tx.calendarEvent.create({ data: { userId, title: event.title ?? null, startsAt: event.startsAt, endsAt: event.endsAt } })
  })
}

/** Removes the user's event `id` (giving its quota unit back); NOT_FOUND when it is not theirs. */
export async function removeCalendarEvent(prisma: PrismaClient, userId: string, id: string) {
  if (!isUuid(id)) throw notFound('calendar event')
  await prisma.$transaction(async (tx) => {
    const deleted = await tx.calendarEvent.deleteMany({ where: { id, userId } })
    if (deleted.count === 0) throw notFound('calendar event')
    await giveQuota(tx, userId, 'calendarEvents', deleted.count)
  })
  return true
}
