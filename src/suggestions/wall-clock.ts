/**
 * Wall-clock times of many instants in one time zone, with few zone lookups.
 * Pure and deterministic (the zone rules come from the runtime's tz database).
 *
 * Why: converting each instant with luxon costs 0.1-0.2 ms; a week of slots
 * (336) times contacts in 418 zones took 24 s of blocked event loop. A zone's
 * UTC offset is piecewise constant and changes at most a few times a year, so
 * the offset is looked up at the ends of a run of instants, and a run no
 * longer than {@link CONSTANT_SPAN_MS} with the same offset at both ends is
 * taken as constant; other runs are split in two (bisection). The local time
 * then follows by arithmetic, exactly as luxon derives it (`ts + offset`).
 */
import { IANAZone } from 'luxon'
import { DAY_MS, MINUTE_MS } from '../time.ts'


/**
 * The longest run of instants whose offset is trusted from its two ends. No
 * zone of the tz database changes its offset twice within a day (the closest
 * transitions, such as Morocco's around Ramadan or Egypt's in 2014, are weeks
 * apart), so equal offsets a day apart hold in between.
 */
export const CONSTANT_SPAN_MS = DAY_MS

/** An instant's wall clock in a zone: the local day (days since 1970-01-01) and the minute of that day (0..1439). */
export interface WallClock {
  day: number
  minute: number
}

/** The UTC offset in minutes of `zone` at each instant of `sortedMs` (ascending epoch ms), from O(changes × log n + span/day) lookups. */
export function offsetsMinutes(sortedMs: readonly number[], zone: string): number[] {
  const offsets = new Array<number>(sortedMs.length)
  if (sortedMs.length === 0) return offsets
  const ianaZone = IANAZone.create(zone)
  const offsetAt = (index: number) => ianaZone.offset(sortedMs[index]!)
  const last = sortedMs.length - 1
  offsets[0] = offsetAt(0)
  offsets[last] = offsetAt(last)
  // An explicit stack of runs [from, to] whose ends are known: no recursion depth to worry about.
  const runs: [number, number][] = [[0, last]]
  for (let run = runs.pop(); run; run = runs.pop()) {
    const [from, to] = run
    if (to - from < 2) continue
    if (offsets[from] === offsets[to] && sortedMs[to]! - sortedMs[from]! <= CONSTANT_SPAN_MS) {
      offsets.fill(offsets[from]!, from + 1, to)
      continue
    }
    const middle = (from + to) >>> 1
    offsets[middle] = offsetAt(middle)
    runs.push([from, middle], [middle, to])
  }
  return offsets
}

/** The wall clock of each instant of `sortedMs` (ascending epoch ms) in `zone`, as luxon's `DateTime.fromMillis(ms, { zone })` would give it (seconds dropped). */
export function wallClocks(sortedMs: readonly number[], zone: string): WallClock[] {
  const offsets = offsetsMinutes(sortedMs, zone)
  return sortedMs.map((ms, index) => {
    const local = ms + offsets[index]! * MINUTE_MS
    const day = Math.floor(local / DAY_MS)
    return { day, minute: Math.floor((local - day * DAY_MS) / MINUTE_MS) }
  })
}
