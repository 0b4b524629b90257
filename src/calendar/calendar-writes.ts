/** The user's availability (weekly windows) and busy calendar events. */
import { z } from 'zod'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { notFound } from '../errors.ts'
import { parseInput, storableDate, storableString, timeZone } from '../validation.ts'

const windowsSchema = z
  .array(
    z
      .object({
        weekday: z.number().int().min(1).max(7),
        startMinute: z.number().int().min(0).max(1439),
        endMinute: z.number().int().min(1).max(1440),
      })
      .refine((w) => w.startMinute < w.endMinute, { message: 'startMinute must be before endMinute', path: ['endMinute'] }),
  )
  .max(100)

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
  .refine((e) => e.endsAt.getTime() - e.startsAt.getTime() <= 31 * 86_400_000, { message: 'at most 31 days', path: ['endsAt'] })

export async function addCalendarEvent(prisma: PrismaClient, userId: string, input: z.input<typeof eventSchema>) {
  const event = parseInput(eventSchema, input, 'input')
  return prisma.calendarEvent.create({ data: { userId, title: event.title ?? null, startsAt: event.startsAt, endsAt: event.endsAt } })
}

export async function removeCalendarEvent(prisma: PrismaClient, userId: string, id: string) {
  const deleted = isUuid(id) ? await prisma.calendarEvent.deleteMany({ where: { id, userId } }) : { count: 0 }
  if (deleted.count === 0) throw notFound('calendar event')
  return true
}
