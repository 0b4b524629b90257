/**
 * A seeded user's weekly availability and a week of busy calendar events, in
 * the user's time zone (luxon reads the zone's offsets).
 */
import { DateTime, IANAZone } from 'luxon'
import { DAY_MS, MINUTE_MS } from '../time.ts'
import { Random } from './random.ts'
import type { SeedAvailability, SeedCalendarEvent } from './rows.ts'

/** Weekly free time: weekday evenings 18:00-21:00, weekends 10:00-16:00 (local time of the user). */
export function generateAvailability(spec: { seed: number; userId: string }): SeedAvailability[] {
  const random = new Random(spec.seed, `availability:${spec.userId}`)
  const windows: [number, number, number][] = []
  for (let weekday = 1; weekday <= 5; weekday++) windows.push([weekday, 18 * 60, 21 * 60])
  for (const weekday of [6, 7]) windows.push([weekday, 10 * 60, 16 * 60])
  return windows.map(([weekday, startMinute, endMinute]) => ({ id: random.uuid(), userId: spec.userId, weekday, startMinute, endMinute }))
}

/**
 * The instant of a local wall-clock time in `timeZone` (`minuteOfDay` past
 * 1440 runs into the next days): the wall time read as UTC, minus the zone's
 * offset (luxon) at that first guess. At a DST change the result depends only
 * on the zone, never on today's date (luxon's `DateTime.fromObject` resolves
 * an overlap with the offset in force now): east of Greenwich a time in a gap
 * moves forward by the gap and an overlap gives the later instant (Berlin:
 * 02:30 -> 03:30 CEST; 02:30 CET); west of it a time in a gap moves back and
 * an overlap gives the earlier instant (New York: 02:30 -> 01:30 EST; 01:30 EDT).
 */
export function zonedTimeToUtc(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): Date {
  const zone = IANAZone.create(timeZone)
  const asUtc = Date.UTC(year, month - 1, day, 0, minuteOfDay)
  const firstGuess = asUtc - zone.offset(asUtc) * MINUTE_MS
  return new Date(asUtc - zone.offset(firstGuess) * MINUTE_MS)
}

interface EventTemplate {
  title: string
  /** Local start, minutes after midnight: earliest and latest (in 15-minute steps). */
  from: number
  to: number
  minutes: readonly number[]
  weekend: boolean
}

const EVENT_TEMPLATES: readonly EventTemplate[] = [
  { title: 'Team stand-up', from: 9 * 60, to: 10 * 60, minutes: [15, 30], weekend: false },
  { title: 'Project review', from: 10 * 60, to: 16 * 60, minutes: [60, 90], weekend: false },
  { title: 'Lunch with a colleague', from: 12 * 60, to: 13 * 60, minutes: [60], weekend: false },
  { title: 'Dentist', from: 8 * 60, to: 17 * 60, minutes: [45], weekend: false },
  { title: 'Climbing session', from: 18 * 60, to: 19 * 60 + 30, minutes: [90, 120], weekend: false },
  { title: 'Choir rehearsal', from: 19 * 60, to: 19 * 60 + 30, minutes: [120], weekend: false },
  { title: 'Dinner with friends', from: 19 * 60, to: 20 * 60 + 30, minutes: [120, 150], weekend: false },
  { title: 'Parents evening', from: 18 * 60, to: 18 * 60 + 30, minutes: [60], weekend: false },
  { title: 'Brunch', from: 10 * 60, to: 11 * 60 + 30, minutes: [90, 120], weekend: true },
  { title: 'Farmers market', from: 9 * 60, to: 11 * 60, minutes: [60], weekend: true },
  { title: 'Family lunch', from: 12 * 60 + 30, to: 13 * 60 + 30, minutes: [90, 120], weekend: true },
  { title: 'Long run', from: 8 * 60, to: 10 * 60, minutes: [90], weekend: true },
  { title: 'Football match', from: 15 * 60, to: 16 * 60, minutes: [120], weekend: true },
]

/** Busy time over the 7 days after `now`: two to four events a day, some of them in the free evenings. */
export function generateCalendarEvents(spec: { seed: number; userId: string; timezone: string; now: Date }): SeedCalendarEvent[] {
  const random = new Random(spec.seed, `calendar:${spec.userId}`)
  const start = spec.now.getTime()
  const end = start + 7 * DAY_MS
  const today = DateTime.fromJSDate(spec.now, { zone: spec.timezone })
  const events: SeedCalendarEvent[] = []
  for (let dayOffset = 0; dayOffset <= 7; dayOffset++) {
    // A calendar date (no zone): the user's today, then the next seven.
    const date = DateTime.utc(today.year, today.month, today.day).plus({ days: dayOffset })
    const weekend = date.weekday >= 6
    const templates = EVENT_TEMPLATES.filter((template) => template.weekend === weekend)
    const count = random.between(2, 4)
    const used = new Set<string>()
    for (let i = 0; i < count; i++) {
      const template = random.pick(templates)
      if (used.has(template.title)) continue
      used.add(template.title)
      const startMinute = template.from + 15 * random.int((template.to - template.from) / 15 + 1)
      const startsAt = zonedTimeToUtc(date.year, date.month, date.day, startMinute, spec.timezone)
      const endsAt = new Date(startsAt.getTime() + random.pick(template.minutes) * MINUTE_MS)
      if (startsAt.getTime() < start || endsAt.getTime() > end) continue
      events.push({ id: random.uuid(), userId: spec.userId, title: template.title, startsAt, endsAt })
    }
  }
  return events.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : 1))
}
