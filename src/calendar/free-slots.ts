/** Free time: weekly availability windows, minus busy events, cut into slots. Pure (luxon for time zones). */
import { DateTime, IANAZone } from 'luxon'
import { z } from 'zod'
import { MINUTE_MS } from '../time.ts'

/** Half-open `[start, end)`. */
export interface Interval {
  start: Date
  end: Date
}

/** Whether two half-open intervals share an instant (one ending when the other starts does not). */
export function intervalsOverlap(a: Interval, b: Interval): boolean {
  return a.start.getTime() < b.end.getTime() && b.start.getTime() < a.end.getTime()
}

/**
 * The index of the first interval of `sorted` (by start) that overlaps an
 * earlier one, or -1 when they are disjoint. O(n).
 */
export function firstOverlapping(sorted: readonly Interval[]): number {
  let latestEnd = Number.NEGATIVE_INFINITY
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i]!.start.getTime() < latestEnd) return i
    latestEnd = Math.max(latestEnd, sorted[i]!.end.getTime())
  }
  return -1
}

/**
 * The one rule for a weekly window: ISO weekday 1 = Monday ... 7 = Sunday;
 * minutes after local midnight, 0 <= start < end <= 1440. The write path
 * (`setAvailability`) and {@link freeSlots} both check it.
 */
export const weeklyWindowSchema = z
  .object({
    weekday: z.number().int().min(1).max(7),
    startMinute: z.number().int().min(0).max(1439),
    endMinute: z.number().int().min(1).max(1440),
  })
  .refine((w) => w.startMinute < w.endMinute, { message: 'startMinute must be before endMinute', path: ['endMinute'] })

/** ISO weekday 1 = Monday ... 7 = Sunday; minutes after local midnight, 0 <= start < end <= 1440 ({@link weeklyWindowSchema}). */
export interface WeeklyWindow {
  weekday: number
  startMinute: number
  endMinute: number
}

export interface FreeSlotsInput {
  windows: readonly WeeklyWindow[]
  /** IANA zone of the windows (the user's). */
  timezone: string
  busy: readonly Interval[]
  from: Date
  to: Date
  /** Default 30. */
  slotMinutes?: number
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone)
}

/** Checks every window against {@link weeklyWindowSchema}; throws a RangeError naming the first bad window. */
export function validateWeeklyWindows(windows: readonly WeeklyWindow[]): void {
  windows.forEach((w, i) => {
    if (!weeklyWindowSchema.safeParse(w).success) {
      throw new RangeError(`window ${i}: weekday must be 1..7 and 0 <= startMinute < endMinute <= 1440`)
    }
  })
}


/**
 * Free slots of `slotMinutes` over `[from, to)`: every local date's windows as
 * instants (a window across a DST change is as long as the clock says), minus
 * busy time, each free stretch cut on the local slot grid (:00, :30 for 30
 * minutes), a remainder shorter than a slot dropped. Sorted, non-overlapping.
 */
export function freeSlots(input: FreeSlotsInput): Interval[] {
  return cutSlots(freeStretches(input), input.timezone, input.from, input.to, input.slotMinutes)
}

/**
 * Free time over `[from, to)`: the windows as instants minus busy time, as the
 * maximal free stretches, sorted and apart (none touches the next), flat:
 * `[start0, end0, start1, end1, ...]` in epoch ms (16 bytes a stretch).
 * Throws a RangeError for a bad window ({@link validateWeeklyWindows}).
 */
export function freeStretches(input: Omit<FreeSlotsInput, 'slotMinutes'>): Float64Array {
  validateWeeklyWindows(input.windows)
  const zone = input.timezone
  const from = input.from.getTime()
  const to = input.to.getTime()
  if (!(to > from)) return new Float64Array(0)

  // 1. Windows as instants, for every local date that overlaps the horizon.
  const stretches: [number, number][] = []
  let day = DateTime.fromMillis(from, { zone }).startOf('day').minus({ days: 1 })
  const lastDay = DateTime.fromMillis(to, { zone }).startOf('day')
  while (day <= lastDay) {
    const midnight = day.startOf('day')
    for (const w of input.windows) {
      if (w.weekday !== midnight.weekday) continue
      // Minutes are wall-clock: 18:00 is midnight's date at 18:00 local, whatever the offset did in between.
      const start = midnight.set({ hour: Math.floor(w.startMinute / 60), minute: w.startMinute % 60 }).toMillis()
      const end =
        w.endMinute === 1440
          ? midnight.plus({ days: 1 }).toMillis()
          : midnight.set({ hour: Math.floor(w.endMinute / 60), minute: w.endMinute % 60 }).toMillis()
      const s = Math.max(start, from)
      const e = Math.min(end, to)
      if (e > s) stretches.push([s, e])
    }
    day = day.plus({ days: 1 })
  }
  stretches.sort((a, b) => a[0] - b[0])

  // 2. Merge, then subtract busy time.
  const merged: [number, number][] = []
  for (const [s, e] of stretches) {
    const last = merged.at(-1)
    if (last && s <= last[1]) last[1] = Math.max(last[1], e)
    else merged.push([s, e])
  }
  const busy = input.busy
    .map((b) => [b.start.getTime(), b.end.getTime()] as [number, number])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0])
  const free: number[] = []
  for (const [s, e] of merged) {
    let cursor = s
    for (const [bs, be] of busy) {
      if (be <= cursor || bs >= e) continue
      if (bs > cursor) free.push(cursor, bs)
      cursor = Math.max(cursor, be)
    }
    if (cursor < e) free.push(cursor, e)
  }
  return Float64Array.from(free)
}

/**
 * The slots of `slotMinutes` (default 30) in `[from, to)` of free `stretches`
 * ({@link freeStretches}): each stretch clipped to `[from, to)`, then cut on
 * the local grid of `timezone` from its start, a remainder shorter than a slot
 * dropped. Stretches computed over any range containing `[from, to)` give the
 * slots {@link freeSlots} gives over `[from, to)` (the same busy time and
 * windows leave the same free time there, and the grid of a stretch depends
 * only on where it starts): a cache of the stretches over a longer range serves
 * every `now` inside it (suggestions/engine-caches.ts).
 */
export function cutSlots(stretches: Float64Array, timezone: string, from: Date, to: Date, slotMinutes = 30): Interval[] {
  const slotMs = slotMinutes * MINUTE_MS
  const lower = from.getTime()
  const upper = to.getTime()
  const slots: Interval[] = []
  for (let i = 0; i + 1 < stretches.length; i += 2) {
    const s = Math.max(stretches[i]!, lower)
    const e = Math.min(stretches[i + 1]!, upper)
    if (!(e > s)) continue
    const local = DateTime.fromMillis(s, { zone: timezone })
    const minutesIntoDay = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / MINUTE_MS
    const aligned = Math.ceil(minutesIntoDay / slotMinutes) * slotMinutes
    let start = s + (aligned - minutesIntoDay) * MINUTE_MS
    while (start + slotMs <= e) {
      slots.push({ start: new Date(start), end: new Date(start + slotMs) })
      start += slotMs
    }
  }
  return slots
}
