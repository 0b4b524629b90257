/** The user's free time from the database: weekly availability minus calendar events, over a horizon. */
import type { PrismaClient } from '../generated/prisma/client.ts'
import { DAY_MS } from '../time.ts'
import { freeSlots, type Interval } from './free-slots.ts'

/** Free slots of the user from `now` to `now + horizonDays`, in the user's time zone (see {@link userTimezone}). */
export async function loadFreeSlots(prisma: PrismaClient, userId: string, now: Date, horizonDays: number, timezone: string): Promise<Interval[]> {
  const to = new Date(now.getTime() + horizonDays * DAY_MS)
  const [windows, busy] = await Promise.all([
    prisma.availability.findMany({ where: { userId }, select: { weekday: true, startMinute: true, endMinute: true } }),
    prisma.calendarEvent.findMany({
      where: { userId, startsAt: { lt: to }, endsAt: { gt: now } },
      select: { startsAt: true, endsAt: true },
    }),
  ])
  return freeSlots({
    windows,
    timezone,
    busy: busy.map((event) => ({ start: event.startsAt, end: event.endsAt })),
    from: now,
    to,
  })
}

/** The user's IANA time zone (for contacts that have none). */
export async function userTimezone(prisma: PrismaClient, userId: string): Promise<string> {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { timezone: true } })
  return user.timezone
}
