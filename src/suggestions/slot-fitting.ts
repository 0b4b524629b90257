/** Gives each suggestion, in rank order, the earliest free slot in the contact's waking hours. Pure. */
import { IANAZone } from 'luxon'
import { intervalsOverlap, type Interval } from '../calendar/free-slots.ts'
import { wallClocks } from './wall-clock.ts'

export interface SlotFitterOptions {
  /** Free slots, sorted by start. */
  slots: readonly Interval[]
  /** How many suggestions may share one slot; default 1, so suggestions spread over the week. */
  capacityPerSlot?: number
  /** In the contact's local time; default 09:00-21:00. */
  wakingHours?: { startMinute: number; endMinute: number }
  /** For contacts without a (valid) zone: the user's. */
  defaultTimezone: string
  /** Time already promised (accepted suggestions): each interval takes one unit of every slot it overlaps. */
  taken?: readonly Interval[]
}

/** Deterministic: the same calls in the same order give the same slots. */
/**
 * Whether luxon knows the zone. Its check builds an Intl.DateTimeFormat (about
 * 100 µs); the answer never changes, so it is remembered (zone names are few;
 * the memo is bounded all the same).
 */
const knownZones = new Map<string, boolean>()
function isKnownZone(zone: string): boolean {
  let known = knownZones.get(zone)
  if (known === undefined) {
    known = IANAZone.isValidZone(zone)
    if (knownZones.size < 5000) knownZones.set(zone, known)
  }
  return known
}

/**
 * For each interval of `taken`, the index of every slot it overlaps (half-open:
 * touching is not overlapping), once per pair. `slots` sorted by start; they may
 * overlap one another. O((slots + taken) log slots + pairs).
 */
export function slotsOverlapping(slots: readonly Interval[], taken: readonly Interval[]): number[] {
  if (slots.length === 0) return []
  const starts = slots.map((slot) => slot.start.getTime())
  const longest = slots.reduce((max, slot) => Math.max(max, slot.end.getTime() - slot.start.getTime()), 0)
  /** The first index whose start is at or after `t`. */
  const firstStartingFrom = (t: number) => {
    let low = 0
    let high = starts.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (starts[mid]! < t) low = mid + 1
      else high = mid
    }
    return low
  }
  const hits: number[] = []
  for (const interval of taken) {
    const start = interval.start.getTime()
    const end = interval.end.getTime()
    // A slot that overlaps starts before `end` and, being at most `longest` long, after `start - longest`.
    for (let i = firstStartingFrom(start - longest + 1); i < starts.length && starts[i]! < end; i++) {
      if (intervalsOverlap(slots[i]!, interval)) hits.push(i)
    }
  }
  return hits
}

/** The distinct instants of the slots, ascending, and where each slot's start and end are among them. */
interface SlotInstants {
  sortedMs: number[]
  startIndex: number[]
  endIndex: number[]
}

function slotInstants(slots: readonly Interval[]): SlotInstants {
  const sortedMs = [...new Set(slots.flatMap((slot) => [slot.start.getTime(), slot.end.getTime()]))].sort((a, b) => a - b)
  const position = new Map(sortedMs.map((ms, index) => [ms, index]))
  return {
    sortedMs,
    startIndex: slots.map((slot) => position.get(slot.start.getTime())!),
    endIndex: slots.map((slot) => position.get(slot.end.getTime())!),
  }
}

export class SlotFitter {
  private readonly slots: readonly Interval[]
  private readonly remaining: number[]
  private readonly waking: { startMinute: number; endMinute: number }
  private readonly defaultTimezone: string
  private readonly fitsByZone = new Map<string, boolean[]>()
  /** Index of the first slot with capacity left. */
  private firstOpen = 0
  /** Every slot's start and end, sorted once for all zones (on the first contact). */
  private instants: SlotInstants | undefined

  constructor(options: SlotFitterOptions) {
    this.slots = options.slots
    const capacity = options.capacityPerSlot ?? 1
    this.remaining = options.slots.map(() => capacity)
    this.waking = options.wakingHours ?? { startMinute: 540, endMinute: 1260 }
    this.defaultTimezone = options.defaultTimezone
    // Taken time is an interval, subtracted as calendar events are: any overlap costs the slot a unit, not only an equal start.
    for (const i of slotsOverlapping(options.slots, options.taken ?? [])) this.remaining[i] = Math.max(0, this.remaining[i]! - 1)
  }

  /** Per contact time zone as given (checking a zone is slow: once per zone, not per contact). */
  private fits(contactTimezone: string | null): boolean[] {
    const known = this.fitsByZone.get(contactTimezone ?? '')
    if (known) return known
    const zone = contactTimezone && isKnownZone(contactTimezone) ? contactTimezone : this.defaultTimezone
    let fits = this.fitsByZone.get(zone)
    if (!fits) {
      fits = this.fitsIn(zone)
      this.fitsByZone.set(zone, fits)
    }
    this.fitsByZone.set(contactTimezone ?? '', fits)
    return fits
  }

  /**
   * Whether each slot lies inside waking hours in `zone`: its start at or after
   * the first waking minute, its end (counted from the start's local midnight)
   * at or before the last. The zone's offsets are looked up a few times over
   * the slots' span, not per slot (wall-clock.ts).
   */
  private fitsIn(zone: string): boolean[] {
    const instants = (this.instants ??= slotInstants(this.slots))
    const clocks = wallClocks(instants.sortedMs, zone)
    return this.slots.map((_, i) => {
      const start = clocks[instants.startIndex[i]!]!
      const end = clocks[instants.endIndex[i]!]!
      const endMinute = end.day === start.day ? end.minute : 1440 + end.minute
      return start.minute >= this.waking.startMinute && endMinute <= this.waking.endMinute
    })
  }

  /** The earliest slot with capacity left inside the contact's waking hours, taking one unit of it; null when none fits. */
  assign(contactTimezone: string | null): Interval | null {
    const fits = this.fits(contactTimezone)
    while (this.firstOpen < this.slots.length && this.remaining[this.firstOpen] === 0) this.firstOpen++
    for (let i = this.firstOpen; i < this.slots.length; i++) {
      if (this.remaining[i]! > 0 && fits[i]) {
        this.remaining[i]!--
        return this.slots[i]!
      }
    }
    return null
  }
}
