/**
 * The busy occurrences of a recurring event in a window. Pure: ical.js walks the rule
 * (`Event.iterator()`: RRULE, RDATE, EXDATE; RECURRENCE-ID overrides related to the master),
 * {@link instantOf} turns each wall time into an instant (VTIMEZONE of the series, IANA name, or the
 * user's zone), so a 10:00 weekly meeting stays at 10:00 local across a DST change.
 */
import ICAL from 'ical.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from '../../time.ts'
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
  /** Steps of the rule walked at most, from DTSTART (default {@link DEFAULT_MAX_ITERATIONS}): an old rule walks its past too. */
  maxIterations?: number
  /** Candidate dates ical.js may test against the rule's BY parts, at most (default {@link DEFAULT_MAX_CANDIDATES}). */
  maxCandidates?: number
  /** Move an old rule's DTSTART forward by whole periods first (see `rebase`; default true; tests compare both). */
  rebase?: boolean
}

export interface Expansion {
  occurrences: Occurrence[]
  /** True when a cap stopped the walk before `to`: the list may miss occurrences. */
  truncated: boolean
}

export const DEFAULT_MAX_OCCURRENCES = 10_000
/**
 * A step costs ical.js 17-24 µs (a `FREQ=SECONDLY` rule from January: 50,000 steps in 0.9-1.2 s, in one turn
 * of the event loop), so 2,000 steps stay under ~50 ms. A rebased rule (see {@link rebase}) takes a step
 * per occurrence in the window: an hourly rule over a 90-day horizon takes 2,184 and is refused.
 */
export const DEFAULT_MAX_ITERATIONS = 2_000
/** Candidate dates per expansion: 8-18 µs each (5,000 took 40-90 ms; see {@link limitCandidates}). */
export const DEFAULT_MAX_CANDIDATES = 5_000
/**
 * Candidate dates for one occurrence: a rule that needs more is too sparse for its frequency (an hourly rule
 * in February only) or has no occurrence at all. 500 covers a daily rule's "every 13th that is a Monday".
 */
export const MAX_CANDIDATES_PER_STEP = 500
/** Candidate dates tested between two pauses of {@link expansionSteps} at most (plus one step's). */
const CANDIDATES_PER_PAUSE = 500

/** Thrown inside ical.js's walk when an expansion has tested its share of candidate dates. */
class CandidateLimit extends Error {}

/** ical.js's RecurIterator, as far as {@link limitCandidates} uses it. */
interface RuleIterator {
  check_contracting_rules(): boolean
}

/** Candidate dates tested so far: in all, and since the current step began (the walk resets it). */
interface CandidateCount {
  total: number
  step: number
}

/**
 * ical.js 2.2.1's `RecurIterator#next` steps until a candidate satisfies the rule's contracting BY parts,
 * and never returns when none can (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`: there is no 30 February;
 * kewisch/ical.js#1038, open): one such event held the event loop for good. Each rule iterator of the
 * expansion gets a counter on that check, so the walk throws {@link CandidateLimit} past `maxCandidates`
 * candidates in all or {@link MAX_CANDIDATES_PER_STEP} for one occurrence, and the expansion ends truncated.
 */
function limitCandidates(expansion: { ruleIterators?: unknown }, maxCandidates: number): CandidateCount {
  const count: CandidateCount = { total: 0, step: 0 }
  for (const iterator of (expansion.ruleIterators ?? []) as RuleIterator[]) {
    const check = iterator.check_contracting_rules.bind(iterator)
    iterator.check_contracting_rules = () => {
      if (++count.total > maxCandidates || ++count.step > MAX_CANDIDATES_PER_STEP) throw new CandidateLimit()
      return check()
    }
  }
  return count
}

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
  const steps = expansionSteps(seriesIcs, from, to, zone, options)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/** Steps of the rule walked between two pauses of {@link expansionSteps} at most: 64 steps take 1-15 ms. */
export const STEPS_PER_PAUSE = 64

/**
 * {@link expandSeriesDetailed} as a generator that pauses (yields) every {@link STEPS_PER_PAUSE} steps (or 500
 * candidate dates) and
 * returns the {@link Expansion}: a caller on a server gives the event loop a turn at each pause, so a long
 * expansion never holds it (the caps bound the whole walk; the pauses bound each piece of it).
 */
export function* expansionSteps(seriesIcs: string, from: Date, to: Date, zone: string, options: ExpandOptions = {}): Generator<void, Expansion> {
  const maxOccurrences = options.maxOccurrences ?? DEFAULT_MAX_OCCURRENCES
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES

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
    const skipBefore = fromMs - Math.max(0, span.end.getTime() - span.start.getTime()) - 2 * DAY_MS
    if (!ranged && options.rebase !== false) rebase(master, skipBefore)
    const event = new ICAL.Event(master, { exceptions: overrides })
    if (!event.isRecurring()) {
      const { start, end } = eventInterval(master, zone)
      add(start, end, masterTitle)
    } else {
      const masterStart = timeProperty(master, 'dtstart')
      const tzid = masterStart?.tzid ?? null
      const iterator = event.iterator()
      const candidates = limitCandidates(iterator as unknown as { ruleIterators?: unknown }, maxCandidates)
      let pausedAt = { steps: 0, candidates: 0 }
      for (let steps = 0; ; steps++) {
        if (steps >= maxIterations) {
          truncated = true
          break
        }
        if (steps - pausedAt.steps >= STEPS_PER_PAUSE || candidates.total - pausedAt.candidates >= CANDIDATES_PER_PAUSE) {
          yield
          pausedAt = { steps, candidates: candidates.total }
        }
        let next: IcalTime | null
        candidates.step = 0
        try {
          next = iterator.next()
        } catch (error) {
          if (!(error instanceof CandidateLimit)) throw error
          truncated = true
          break
        }
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
        if (start.getTime() >= toMs + 366 * DAY_MS) break
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

/**
 * Seconds of one step of each frequency a rebase can move by whole days. Seconds, not milliseconds:
 * the gcd needs an exact integer, and INTERVAL weeks in milliseconds pass 2^53 from an INTERVAL of 1.5e7.
 */
const STEP_SECONDS: Partial<Record<string, number>> = {
  SECONDLY: 1,
  MINUTELY: MINUTE_MS / SECOND_MS,
  HOURLY: HOUR_MS / SECOND_MS,
  DAILY: DAY_MS / SECOND_MS,
  WEEKLY: WEEK_MS / SECOND_MS,
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

/**
 * ical.js walks a rule from DTSTART, 17-60 µs a step: a daily series started ten years ago cost 300 ms
 * per expansion, and an hourly one from January hit the step cap. A SECONDLY to WEEKLY rule without
 * COUNT gives the same occurrences from any DTSTART moved by a whole number of its periods (INTERVAL
 * steps), and its BY parts filter or expand on the calendar alone, so DTSTART and DTEND move by the
 * smallest whole number of days that is also a whole number of periods (on the wall clock, so DST does
 * not matter), to the last such start before `before`. The moved DTSTART itself (which ical.js always
 * yields, matching the rule or not) is before the window, skipped.
 */
function rebase(master: IcalComponent, before: number): void {
  const rules = master.getAllProperties('rrule')
  if (rules.length !== 1 || master.hasProperty('rdate')) return
  const rule = rules[0]!.getFirstValue()
  const unit = rule instanceof ICAL.Recur ? STEP_SECONDS[rule.freq] : undefined
  if (!(rule instanceof ICAL.Recur) || rule.count || unit === undefined) return
  const start = timeProperty(master, 'dtstart')
  if (!start) return
  const period = (rule.interval || 1) * unit
  // lcm(period, one day), in days.
  const stepDays = period / gcd(period, DAY_MS / SECOND_MS)
  const steps = Math.floor((before - wallClockMs(start.time)) / (stepDays * DAY_MS)) - 1
  if (steps <= 0) return
  for (const name of ['dtstart', 'dtend']) {
    const property = master.getFirstProperty(name)
    const value = property?.getFirstValue()
    if (!property || !(value instanceof ICAL.Time)) continue
    const moved = value.clone()
    moved.adjust(steps * stepDays, 0, 0, 0)
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
