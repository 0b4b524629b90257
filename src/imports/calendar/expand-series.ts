/**
 * The busy occurrences of a recurring event in a window. Pure: ical.js walks the rule
 * (`Event.iterator()`: RRULE, RDATE, EXDATE; RECURRENCE-ID overrides related to the master),
 * {@link instantOf} turns each wall time into an instant (VTIMEZONE of the series, IANA name, or the
 * user's zone), so a 10:00 weekly meeting stays at 10:00 local across a DST change.
 */
import ICAL from 'ical.js'
import { eventInterval, instantOf, notBusyReason, textProperty, timeProperty, type IcalComponent, type IcalTime } from './ics-time.ts'

/** One busy occurrence: `[start, end)`. */
export interface Occurrence {
  start: Date
  end: Date
  title: string | null
}

export interface ExpandOptions {
  /** Occurrences returned at most (default 10,000); past it `truncated`. */
  maxOccurrences?: number
  /** Steps of the rule walked at most, from DTSTART (default 50,000): an old daily rule walks its past too. */
  maxIterations?: number
  /** A working-time budget: `now()` in ms (e.g. `performance.now`) and how many ms; past it `truncated`. */
  budget?: { now: () => number; ms: number }
  /** Move an old DAILY/WEEKLY rule's DTSTART forward by whole periods first (default true; tests compare both). */
  rebase?: boolean
}

export interface Expansion {
  occurrences: Occurrence[]
  /** True when a cap or the budget stopped the walk before `to`: the list may miss occurrences. */
  truncated: boolean
}

export const DEFAULT_MAX_OCCURRENCES = 10_000
export const DEFAULT_MAX_ITERATIONS = 50_000
/** Longest title kept (the API's limit); longer ones are cut. */
export const MAX_TITLE_LENGTH = 200

/**
 * The occurrences of `seriesIcs` (a VCALENDAR holding one UID's VEVENTs and the VTIMEZONEs they use)
 * that overlap `[from, to)`, ordered by start. Moved occurrences (a RECURRENCE-ID override) appear at
 * their new time; cancelled ones (EXDATE, or an override with STATUS:CANCELLED or TRANSP:TRANSPARENT)
 * and zero-length ones do not. A master that is cancelled or transparent gives none.
 *
 * @param zone the user's IANA zone: floating times and all-day dates are read in it.
 * @throws Error when `seriesIcs` is not iCalendar, UnknownTimeZoneError / EventFieldError for a bad time.
 */
export function expandSeries(seriesIcs: string, from: Date, to: Date, zone: string): Occurrence[] {
  return expandSeriesDetailed(seriesIcs, from, to, zone).occurrences
}

/** {@link expandSeries}, saying whether a cap cut the walk short. */
export function expandSeriesDetailed(seriesIcs: string, from: Date, to: Date, zone: string, options: ExpandOptions = {}): Expansion {
  const maxOccurrences = options.maxOccurrences ?? DEFAULT_MAX_OCCURRENCES
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS
  const deadline = options.budget ? options.budget.now() + options.budget.ms : Infinity
  const outOfTime = () => options.budget !== undefined && options.budget.now() > deadline

  const root = new ICAL.Component(ICAL.parse(seriesIcs) as unknown[])
  const vevents = root.name === 'vevent' ? [root] : root.getAllSubcomponents('vevent')
  const master = vevents.find((vevent) => !vevent.hasProperty('recurrence-id'))
  const overrides = vevents.filter((vevent) => vevent.hasProperty('recurrence-id'))
  const occurrences: Occurrence[] = []
  let truncated = false
  const fromMs = from.getTime()
  const toMs = to.getTime()
  const masterTitle = master ? titleOf(master) : null

  const add = (start: Date, end: Date, title: string | null): boolean => {
    if (end.getTime() <= start.getTime()) return true
    if (end.getTime() <= fromMs || start.getTime() >= toMs) return true
    if (occurrences.length >= maxOccurrences) {
      truncated = true
      return false
    }
    occurrences.push({ start, end, title })
    return true
  }

  if (master && notBusyReason(master) === null) {
    const ranged = hasRangeOverride(overrides)
    // Occurrences well before `from` are stepped over on their wall clock alone (a zone is at most
    // 14 hours off UTC).
    const span = eventInterval(master, zone)
    const skipBefore = fromMs - Math.max(0, span.end.getTime() - span.start.getTime()) - 2 * DAY
    if (!ranged && options.rebase !== false) rebase(master, skipBefore)
    const event = new ICAL.Event(master, { exceptions: overrides })
    if (!event.isRecurring()) {
      const { start, end } = eventInterval(master, zone)
      add(start, end, masterTitle)
    } else {
      const masterStart = timeProperty(master, 'dtstart')
      const tzid = masterStart?.tzid ?? null
      const iterator = event.iterator()
      for (let steps = 0; ; steps++) {
        if (steps >= maxIterations || (steps % 64 === 0 && outOfTime())) {
          truncated = true
          break
        }
        const next: IcalTime | null = iterator.next()
        if (!next) break
        if (!ranged && wallClockMs(next) < skipBefore) continue
        if (instantOf(next, tzid, zone).getTime() >= toMs && !ranged) break
        // An override's own occurrence is added below, from the override.
        if (isOverridden(event, next)) continue
        const details = event.getOccurrenceDetails(next)
        const item = details.item ?? event
        if (item !== event && notBusyReason(item.component) !== null) continue
        const itemStart = item === event ? tzid : (timeProperty(item.component, 'dtstart')?.tzid ?? tzid)
        const start = instantOf(details.startDate, itemStart, zone)
        // Past `to` with range overrides around: the walk goes on only as far as the cap allows.
        if (start.getTime() >= toMs + 366 * DAY) break
        const end = instantOf(details.endDate, itemStart, zone)
        if (!add(start, end, item === event ? masterTitle : (titleOf(item.component) ?? masterTitle))) break
      }
    }
  }
  for (const override of overrides) {
    if (notBusyReason(override) !== null) continue
    const { start, end } = eventInterval(override, zone)
    if (!add(start, end, titleOf(override) ?? masterTitle)) break
  }
  occurrences.sort((a, b) => a.start.getTime() - b.start.getTime() || a.end.getTime() - b.end.getTime())
  return { occurrences, truncated }
}

const DAY = 86_400_000

/**
 * ical.js walks a rule from DTSTART, about 60 µs a step: a daily series started ten years ago cost
 * 300 ms per expansion. A DAILY or WEEKLY rule without COUNT gives the same occurrences from any
 * DTSTART moved by whole periods (INTERVAL days or weeks, on the wall clock, so DST does not
 * matter), so DTSTART and DTEND move to the last period start before `before`. The moved DTSTART
 * itself (which ical.js always yields, matching the rule or not) is before the window, skipped.
 */
function rebase(master: IcalComponent, before: number): void {
  const rules = master.getAllProperties('rrule')
  if (rules.length !== 1 || master.hasProperty('rdate')) return
  const rule = rules[0]!.getFirstValue()
  if (!(rule instanceof ICAL.Recur) || rule.count || (rule.freq !== 'DAILY' && rule.freq !== 'WEEKLY')) return
  const start = timeProperty(master, 'dtstart')
  if (!start) return
  const periodDays = (rule.interval || 1) * (rule.freq === 'WEEKLY' ? 7 : 1)
  const periods = Math.floor((before - wallClockMs(start.time)) / (periodDays * DAY)) - 1
  if (periods <= 0) return
  for (const name of ['dtstart', 'dtend']) {
    const property = master.getFirstProperty(name)
    const value = property?.getFirstValue()
    if (!property || !(value instanceof ICAL.Time)) continue
    const moved = value.clone()
    moved.adjust(periods * periodDays, 0, 0, 0)
    property.setValue(moved)
  }
}

/** The wall clock of `time` read as if it were UTC (within 14 hours of its instant). */
function wallClockMs(time: IcalTime): number {
  return Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second)
}

function hasRangeOverride(overrides: IcalComponent[]): boolean {
  return overrides.some((override) => override.getFirstProperty('recurrence-id')?.getParameter('range'))
}

function isOverridden(event: InstanceType<typeof ICAL.Event>, time: IcalTime): boolean {
  const exceptions = event.exceptions as unknown as Record<string, unknown>
  if (time.toString() in exceptions) return true
  return time.convertToZone(ICAL.Timezone.utcTimezone).toString() in exceptions
}

/** SUMMARY, trimmed, without characters PostgreSQL cannot store, at most {@link MAX_TITLE_LENGTH}; null when empty. */
export function titleOf(component: IcalComponent): string | null {
  return cleanTitle(textProperty(component, 'summary'))
}

/** See {@link titleOf}. */
export function cleanTitle(value: string | null): string | null {
  if (value === null) return null
  // NUL and lone surrogates cannot be stored; other control characters are noise in a title.
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]|\p{Cs}/gu, '').trim()
  if (cleaned === '') return null
  return [...cleaned.slice(0, 2 * MAX_TITLE_LENGTH)].slice(0, MAX_TITLE_LENGTH).join('').trim()
}
