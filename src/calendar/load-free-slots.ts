/** The user's free time from the database: weekly availability minus calendar events, over a horizon. */
import type { PrismaClient } from '../generated/prisma/client.ts'
import { DAY_MS } from '../time.ts'
import { cutSlots, freeStretches, type Interval } from './free-slots.ts'

/** Free slots of the user from `now` to `now + horizonDays`, in the user's time zone (see {@link userTimezone}). */
export async function loadFreeSlots(prisma: PrismaClient, userId: string, now: Date, horizonDays: number, timezone: string): Promise<Interval[]> {
  const to = new Date(now.getTime() + horizonDays * DAY_MS)
  return cutSlots(await loadFreeStretches(prisma, userId, now, to, timezone), timezone, now, to)
}

/**
 * The user's free time over `[from, to)` in `timezone` (its time zone), as {@link freeStretches}
 * gives it: two queries, the weekly windows and the calendar events overlapping the range.
 */
export async function loadFreeStretches(prisma: PrismaClient, userId: string, from: Date, to: Date, timezone: string): Promise<Float64Array> {
  const [windows, busy] = await Promise.all([
    prisma.availability.findMany({ where: { userId }, select: { weekday: true, startMinute: true, endMinute: true } }),
    prisma.calendarEvent.findMany({
      where: { userId, startsAt: { lt: to }, endsAt: { gt: from } },
      select: { startsAt: true, endsAt: true },
    }),
  ])
  return freeStretches({ windows, timezone, busy: busy.map((event) => ({ start: event.startsAt, end: event.endsAt })), from, to })
}

/** The user's IANA time zone (for contacts that have none). Rejects when the user does not exist. */
export async function userTimezone(prisma: PrismaClient, userId: string): Promise<string> {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { timezone: true } })
  return user.timezone
}
