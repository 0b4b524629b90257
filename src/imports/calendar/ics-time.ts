/**
 * From iCalendar times to instants. Pure (ical.js and luxon; no clock).
 *
 * A DATE-TIME is read in this order: `Z` (UTC); a TZID defined by a VTIMEZONE of the file (ical.js
 * resolves it from the component tree, or the caller's lookup does); a TZID that is an IANA name
 * without a VTIMEZONE (ical.js knows no IANA zones: the wall time is converted with luxon); a
 * floating time (no TZID) in the user's zone. An all-day DATE is the whole local day in the user's
 * zone (midnight to midnight there, so 23 or 25 hours across a DST change): a birthday is busy on
 * the user's own calendar day, wherever the file was written. A TZID that is neither defined nor
 * IANA is an error ({@link UnknownTimeZoneError}), never guessed.
 */
import ICAL from 'ical.js'
import { DateTime } from 'luxon'
import { isValidTimeZone } from '../../calendar/free-slots.ts'
import { DAY_MS, SECOND_MS } from '../../time.ts'

export type IcalTime = InstanceType<typeof ICAL.Time>
export type IcalTimezone = InstanceType<typeof ICAL.Timezone>
export type IcalComponent = InstanceType<typeof ICAL.Component>

/** The VTIMEZONE of a TZID, when the file defines one (null otherwise). */
export type ZoneLookup = (tzid: string) => IcalTimezone | null

/** A TZID neither defined by a VTIMEZONE nor an IANA name. */
export class UnknownTimeZoneError extends Error {
  override name = 'UnknownTimeZoneError'
  constructor(readonly tzid: string) {
    super(`unknown time zone "${tzid.slice(0, 100)}" (no VTIMEZONE and not an IANA name)`)
  }
}

/** A field of an event that cannot be read: the reason, and the property at fault. */
export class EventFieldError extends Error {
  override name = 'EventFieldError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

const noZones: ZoneLookup = () => null

/** Answers of {@link isIanaZone} (luxon builds an Intl.DateTimeFormat per question: ~0.5 ms). */
const ianaAnswers = new Map<string, boolean>()

/** Whether `tzid` is an IANA zone name, remembered for the first 1,000 names asked. */
export function isIanaZone(tzid: string): boolean {
  const known = ianaAnswers.get(tzid)
  if (known !== undefined) return known
  const valid = tzid.length <= 100 && isValidTimeZone(tzid)
  if (ianaAnswers.size < 1000) ianaAnswers.set(tzid, valid)
  return valid
}

function isFloating(time: IcalTime): boolean {
  return time.zone === ICAL.Timezone.localTimezone || time.zone?.tzid === 'floating' || !time.zone
}

/**
 * The instant of `time` (see the module comment for the rules).
 *
 * @param tzid the TZID parameter of the property the time comes from (null: none).
 * @param userZone IANA zone for floating times and all-day dates.
 * @throws UnknownTimeZoneError for a TZID neither defined nor IANA.
 */
export function instantOf(time: IcalTime, tzid: string | null, userZone: string, lookup: ZoneLookup = noZones): Date {
  const wall = { year: time.year, month: time.month, day: time.day }
  if (time.isDate) return luxonInstant({ ...wall, hour: 0, minute: 0, second: 0 }, userZone)
  const clock = { ...wall, hour: time.hour, minute: time.minute, second: time.second }
  if (time.zone === ICAL.Timezone.utcTimezone || time.zone?.tzid === 'UTC') {
    return new Date(Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second))
  }
  if (!isFloating(time)) return new Date(time.toUnixTime() * SECOND_MS)
  if (tzid === null) return luxonInstant(clock, userZone)
  const defined = lookup(tzid)
  if (defined) return new Date(new ICAL.Time({ ...clock, isDate: false }, defined).toUnixTime() * SECOND_MS)
  if (isIanaZone(tzid)) return luxonInstant(clock, tzid)
  throw new UnknownTimeZoneError(tzid)
}

function luxonInstant(clock: { year: number; month: number; day: number; hour: number; minute: number; second: number }, zone: string): Date {
  const date = DateTime.fromObject(clock, { zone })
  if (!date.isValid) throw new EventFieldError('DTSTART', `invalid date ${JSON.stringify(clock)} in ${zone}`)
  return date.toJSDate()
}

/** A property's time value, or an {@link EventFieldError} naming it. */
export function timeProperty(component: IcalComponent, name: string): { time: IcalTime; tzid: string | null } | null {
  const property = component.getFirstProperty(name)
  if (!property) return null
  let value: unknown
  try {
    value = property.getFirstValue()
  } catch (error) {
    throw new EventFieldError(name.toUpperCase(), `bad ${name.toUpperCase()}: ${(error as Error).message}`)
  }
  if (!(value instanceof ICAL.Time)) throw new EventFieldError(name.toUpperCase(), `${name.toUpperCase()} is not a date or date-time`)
  const tzid = property.getParameter('tzid')
  return { time: value, tzid: typeof tzid === 'string' && tzid !== '' ? tzid : null }
}

/**
 * The busy interval of one VEVENT: DTSTART to DTEND, or DTSTART plus DURATION, or (neither) one day
 * for an all-day event and nothing (start = end) for a timed one.
 *
 * @throws EventFieldError (DTSTART missing or unreadable, DTEND/DURATION unreadable) and UnknownTimeZoneError.
 */
export function eventInterval(
  component: IcalComponent,
  userZone: string,
  lookup: ZoneLookup = noZones,
): { start: Date; end: Date; wallClock?: WallClock } {
  const dtstart = timeProperty(component, 'dtstart')
  if (!dtstart) throw new EventFieldError('DTSTART', 'DTSTART is missing')
  checkTime(dtstart.time, 'DTSTART')
  const end = endOf(component, dtstart)
  const start = instantOf(dtstart.time, dtstart.tzid, userZone, lookup)
  const interval = { start, end: end.time === dtstart.time ? start : instantOf(end.time, end.tzid, userZone, lookup) }
  // Both ends read in the user's zone: the writer reads them again in the zone the user has then.
  if (followsUserZone(dtstart.time, dtstart.tzid) && followsUserZone(end.time, end.tzid)) {
    return { ...interval, wallClock: { start: dtstart.time.toString(), end: end.time.toString() } }
  }
  return interval
}

/**
 * A time read in the user's zone, as ical.js writes it: `2026-10-20` (all day) or
 * `2026-10-20T10:00:00` (floating); luxon's `DateTime.fromISO(value, { zone })` reads it back.
 */
export interface WallClock {
  start: string
  end: string
}

/** Whether a time is read in the user's zone: an all-day date, or a floating time without TZID. */
function followsUserZone(time: IcalTime, tzid: string | null): boolean {
  return time.isDate || (tzid === null && isFloating(time))
}

/** The end as a time: DTEND, DTSTART + DURATION, the next day for a date, else DTSTART itself. */
function endOf(component: IcalComponent, dtstart: { time: IcalTime; tzid: string | null }): { time: IcalTime; tzid: string | null } {
  const dtend = timeProperty(component, 'dtend')
  if (dtend) {
    checkTime(dtend.time, 'DTEND')
    return dtend
  }
  const durationProperty = component.getFirstProperty('duration')
  if (durationProperty) {
    let duration: unknown
    try {
      duration = durationProperty.getFirstValue()
    } catch (error) {
      throw new EventFieldError('DURATION', `bad DURATION: ${(error as Error).message}`)
    }
    if (!(duration instanceof ICAL.Duration)) throw new EventFieldError('DURATION', 'DURATION is not a duration')
    const seconds = duration.toSeconds()
    if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_DURATION_S) throw new EventFieldError('DURATION', 'bad DURATION')
    const endTime = dtstart.time.clone()
    endTime.addDuration(duration)
    return { time: endTime, tzid: dtstart.tzid }
  }
  if (dtstart.time.isDate) {
    const endTime = dtstart.time.clone()
    endTime.adjust(1, 0, 0, 0)
    return { time: endTime, tzid: null }
  }
  return dtstart
}

/** The instant of a {@link WallClock} value in `zone`; null when it does not read. */
export function wallClockInstant(value: string, zone: string): Date | null {
  const date = DateTime.fromISO(value, { zone })
  return date.isValid ? date.toJSDate() : null
}

/**
 * The years an imported event may fall in: busy time is looked for around now, and a time far
 * away would make ical.js walk a VTIMEZONE's rules over thousands of years (a hostile file's cheap
 * way to burn CPU).
 */
export const MIN_YEAR = 1900
export const MAX_YEAR = 2200
/** The longest DURATION read (400 days), in seconds: ical.js's unit. */
const MAX_DURATION_S = (400 * DAY_MS) / SECOND_MS

/** ical.js parses lazily and leniently: a value like `2026-13-45` must not become a date. */
function checkTime(time: IcalTime, field: string): void {
  const ok =
    Number.isInteger(time.year) &&
    time.year >= MIN_YEAR &&
    time.year <= MAX_YEAR &&
    time.month >= 1 &&
    time.month <= 12 &&
    time.day >= 1 &&
    time.day <= 31 &&
    (time.isDate || (time.hour >= 0 && time.hour <= 23 && time.minute >= 0 && time.minute <= 59 && time.second >= 0 && time.second <= 60))
  if (!ok) throw new EventFieldError(field, `${field} is not a valid date between ${MIN_YEAR} and ${MAX_YEAR}`)
}

/** Reads the first value of a text property as a string (null when absent or not text). */
export function textProperty(component: IcalComponent, name: string): string | null {
  try {
    const value = component.getFirstPropertyValue(name)
    return typeof value === 'string' ? value : null
  } catch {
    return null
  }
}

/**
 * Whether a VEVENT is busy time: not `STATUS:CANCELLED`, not `TRANSP:TRANSPARENT`.
 * @returns null when busy, else why not.
 */
export function notBusyReason(component: IcalComponent): 'cancelled' | 'transparent' | null {
  if (textProperty(component, 'status')?.trim().toUpperCase() === 'CANCELLED') return 'cancelled'
  if (textProperty(component, 'transp')?.trim().toUpperCase() === 'TRANSPARENT') return 'transparent'
  return null
}
