/**
 * The iCalendar (.ics) reader of calendar imports: bytes in, one record per event out, in bounded
 * memory (see {@link readCalendarRecords}).
 */
import { createHash } from 'node:crypto'
import ICAL from 'ical.js'
import { ClientError } from '../../errors.ts'
import { isStorableDate, isStorableText } from '../../validation.ts'
import { isValidTimeZone } from '../../calendar/free-slots.ts'
import { DAY_MS } from '../../time.ts'
import type { ImportedEvent, Rejected } from '../types.ts'
import { DEFAULT_MAX_LINE_BYTES, readContentLines, type ContentLine } from './ics-lines.ts'
import { EventFieldError, isIanaZone, MAX_YEAR, MIN_YEAR, UnknownTimeZoneError, eventInterval, notBusyReason, textProperty, type IcalComponent, type IcalTimezone } from './ics-time.ts'
import { titleOf } from './expand-series.ts'

/** The file is not iCalendar (or is empty): the whole import fails with `BAD_USER_INPUT`. */
export class CalendarFormatError extends ClientError {
  override name = 'CalendarFormatError'
  constructor(message: string) {
    super('BAD_USER_INPUT', message, { format: 'ics' })
  }
}

export interface CalendarReadOptions {
  /** Largest VEVENT, in bytes of its lines (default 256 KiB); a larger one is rejected. */
  maxRecordBytes?: number
  /**
   * The zone floating times and all-day dates are read in here (default UTC); such events also
   * carry `wallClock`, which the writer reads again in the user's zone.
   */
  timezone?: string
  /** Longest unfolded line (default 1 MiB); a longer one is cut, and its event rejected. */
  maxLineBytes?: number
  /** Recurring UIDs held until the end of the file (default 10,000); past it their events are rejected. */
  maxHeldSeries?: number
  /** Bytes of recurring VEVENTs held until the end (default 20 MB). */
  maxHeldBytes?: number
  /** VTIMEZONEs kept (default 50), each at most 64 KiB with at most 10 yearly rules. */
  maxTimezones?: number
  /** UIDs of single events remembered to refuse duplicates (default 100,000, the default event quota: ~10 MB; past it not checked). */
  maxSingleUids?: number
}

export const CALENDAR_READ_DEFAULTS = {
  maxRecordBytes: 256 * 1024,
  timezone: 'UTC',
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxHeldSeries: 10_000,
  maxHeldBytes: 20 * 1024 * 1024,
  maxTimezones: 50,
  maxSingleUids: 100_000,
}

const MAX_TIMEZONE_BYTES = 64 * 1024
/** Observances with a rule in one VTIMEZONE (Google, Apple and Outlook write two). */
const MAX_ZONE_RULES = 10
/** Deeper nesting inside a VEVENT (VALARM is one level) is refused. */
const MAX_DEPTH = 8
/** The report keeps this much of a record's text. */
const RAW_KEPT = 2048
/** A busy event longer than this is refused, as the API refuses it. */
const MAX_EVENT_MS = 31 * DAY_MS

const BEGIN_END = /^(BEGIN|END):([A-Za-z0-9-]{1,64})[ \t]*$/i

interface OpenRecord {
  kind: 'vevent' | 'vtimezone' | 'other'
  position: number
  lines: string[]
  bytes: number
  /** Why it is refused (the first problem), or null. */
  problem: { reason: string; field?: string } | null
}

interface HeldSeries {
  texts: string[]
  positions: number[]
  tzids: Set<string>
  hasMaster: boolean
  /** Where the master (the VEVENT without RECURRENCE-ID) is in `texts`. */
  masterAt?: number
}

/**
 * Reads an iCalendar stream into events, one record at a time.
 *
 * - Lines are unfolded and decoded as they arrive ({@link readContentLines}); only the current
 *   VEVENT (at most `maxRecordBytes`) is buffered. VTIMEZONEs are kept (small, capped) so later
 *   TZID-qualified times use them; other components (VTODO, VJOURNAL...) are skipped.
 * - A single event (no RRULE, RDATE or RECURRENCE-ID) is yielded as soon as its END:VEVENT is read,
 *   with its busy interval (see ics-time.ts for time zones, floating times and all-day dates).
 * - A recurring one is held by UID (its overrides may come anywhere in the file), up to
 *   `maxHeldSeries` UIDs and `maxHeldBytes`, and yielded at the end as one record whose `seriesIcs`
 *   holds its VEVENTs and the VTIMEZONEs they use; the writer expands it (expand-series.ts).
 * - A cancelled or transparent event (or a timed one without duration) is yielded with `notBusy`:
 *   it is no error; the writer stores nothing for it (and removes what a former import stored).
 * - A malformed event (bad or missing DTSTART, end before start, longer than 31 days, invalid
 *   UTF-8, a line over the cap, an unknown TZID, a duplicate UID, END missing) is a {@link Rejected}
 *   with its 1-based event number, the field when one is at fault, and its first 2 KiB; the rest go on.
 * - An event without UID gets `sha256:<hash of its text>`: stable while the event is unchanged.
 *
 * @throws CalendarFormatError (`BAD_USER_INPUT`) when the stream is empty or does not start with
 *   BEGIN:VCALENDAR (not UTF-8, another format, a first line over the cap).
 */
export async function* readCalendarRecords(
  chunks: AsyncIterable<Uint8Array>,
  options: CalendarReadOptions = {},
): AsyncGenerator<ImportedEvent | Rejected, void, undefined> {
  const limits = { ...CALENDAR_READ_DEFAULTS, ...definedOnly(options) }
  const zone = isValidTimeZone(limits.timezone) ? limits.timezone : 'UTC'
  const timezones = new Map<string, { text: string; zone: IcalTimezone }>()
  const lookup = (tzid: string) => timezones.get(tzid)?.zone ?? null
  const held = new Map<string, HeldSeries>()
  let heldBytes = 0
  const singleUids = new Set<string>()
  /** Single events whose TZID had no VTIMEZONE yet (and is no IANA name): retried at the end. */
  const waiting: { text: string; position: number; component: IcalComponent; uid: string }[] = []

  let seenCalendar = false
  const stack: string[] = []
  let extraDepth = 0
  let eventNumber = 0
  let record: OpenRecord | null = null

  const refuse = (position: number, text: string, reason: string, field?: string): Rejected => ({
    kind: 'rejected',
    position,
    raw: text.slice(0, RAW_KEPT),
    reason,
    ...(field ? { field } : {}),
  })

  const flag = (reason: string, field?: string) => {
    if (record && !record.problem) record.problem = field ? { reason, field } : { reason }
  }

  function* finish(open: OpenRecord): Generator<ImportedEvent | Rejected> {
    const text = open.lines.join('\r\n')
    if (open.kind === 'vtimezone') {
      if (!open.problem) addTimezone(text)
      return
    }
    if (open.kind !== 'vevent') return
    if (open.problem) {
      yield refuse(open.position, text, open.problem.reason, open.problem.field)
      return
    }
    yield* readEvent(text, open.position)
  }

  function addTimezone(original: string): void {
    let text = original
    if (timezones.size >= limits.maxTimezones || text.length > MAX_TIMEZONE_BYTES) return
    try {
      const component = new ICAL.Component(ICAL.parse(text) as unknown[])
      const tzid = textProperty(component, 'tzid')
      if (!tzid || timezones.has(tzid) || !isStorableText(tzid)) return
      // Observances recur yearly; any other rule (FREQ=SECONDLY...) could make ical.js walk for ever,
      // and each rule is walked year by year: real zones have a handful.
      if (component.getAllSubcomponents().filter((observance) => observance.hasProperty('rrule')).length > MAX_ZONE_RULES) return
      for (const observance of component.getAllSubcomponents()) {
        for (const rule of observance.getAllProperties('rrule')) {
          if (!/^FREQ=YEARLY(;|$)/i.test(String(rule.toICALString().split(':').slice(1).join(':')))) return
        }
      }
      // ical.js walks an observance from its DTSTART (Outlook writes 1601) every time a series is
      // parsed: about 40 ms a zone, against 3 ms from 1970. A yearly rule without COUNT means the
      // same from 1970 on, and busy time before 1970 is not looked for.
      for (const observance of component.getAllSubcomponents()) {
        const rule = observance.getFirstPropertyValue('rrule')
        const start = observance.getFirstPropertyValue('dtstart')
        if (rule instanceof ICAL.Recur && !rule.count && start instanceof ICAL.Time && start.year < 1970) {
          const moved = start.clone()
          moved.year = 1970
          observance.updatePropertyWithValue('dtstart', moved)
        }
      }
      text = component.toString()
      const zoneObject = new ICAL.Timezone({ component, tzid })
      // A probe: a zone that cannot answer is dropped here, not while reading events.
      zoneObject.utcOffset(ICAL.Time.fromData({ year: 2026, month: 6, day: 1, hour: 12 }))
      timezones.set(tzid, { text, zone: zoneObject })
    } catch {
      // An unreadable VTIMEZONE is skipped: events using its TZID then need it to be an IANA name.
    }
  }

  function* readEvent(text: string, position: number): Generator<ImportedEvent | Rejected> {
    let component: IcalComponent
    try {
      component = new ICAL.Component(ICAL.parse(text) as unknown[])
      if (component.name !== 'vevent') throw new Error('not a VEVENT')
    } catch (error) {
      yield refuse(position, text, `malformed VEVENT: ${(error as Error).message}`)
      return
    }
    const uid = eventUid(component, text)
    const recurring = component.hasProperty('rrule') || component.hasProperty('rdate') || component.hasProperty('recurrence-id')
    if (recurring) {
      const problem = checkRecurring(component, text)
      if (problem) {
        yield refuse(position, text, problem.message, problem.field)
        return
      }
      let series = held.get(uid)
      if (!series) {
        if (held.size >= limits.maxHeldSeries) {
          yield refuse(position, text, `too many recurring events in one file (at most ${limits.maxHeldSeries})`)
          return
        }
      }
      // Only what makes busy time is held and stored: descriptions, attendees and alarms are dropped.
      const kept = busyText(component)
      if (heldBytes + kept.length > limits.maxHeldBytes) {
        yield refuse(position, text, `too much recurring-event text in one file (at most ${limits.maxHeldBytes} bytes)`)
        return
      }
      if (!series) {
        series = { texts: [], positions: [], tzids: new Set(), hasMaster: false }
        held.set(uid, series)
      }
      const isMaster = !component.hasProperty('recurrence-id')
      if (isMaster && series.hasMaster) {
        yield refuse(position, text, 'duplicate UID: a recurring event with this UID came before', 'UID')
        return
      }
      series.hasMaster ||= isMaster
      if (isMaster) series.masterAt = series.texts.length
      series.texts.push(kept)
      series.positions.push(position)
      for (const tzid of tzidsOf(component)) series.tzids.add(tzid)
      heldBytes += kept.length
      return
    }
    const key = uidKey(uid)
    if (singleUids.has(key)) {
      yield refuse(position, text, 'duplicate UID: an event with this UID came before (the first one is kept)', 'UID')
      return
    }
    if (singleUids.size < limits.maxSingleUids) singleUids.add(key)
    const waitsForZone = tzidsOf(component).some((tzid) => !timezones.has(tzid) && !isIanaZone(tzid))
    if (waitsForZone && heldBytes + text.length <= limits.maxHeldBytes) {
      heldBytes += text.length
      waiting.push({ text, position, component, uid })
      return
    }
    yield single(component, uid, text, position)
  }

  function single(component: IcalComponent, uid: string, text: string, position: number): ImportedEvent | Rejected {
    const base = { kind: 'event' as const, position, raw: text.slice(0, RAW_KEPT), uid, title: titleOf(component), seriesIcs: null }
    const notBusy = notBusyReason(component)
    if (notBusy) return { ...base, startsAt: null, endsAt: null, notBusy }
    try {
      const { start, end, wallClock } = eventInterval(component, zone, lookup)
      if (!isStorableDate(start) || !isStorableDate(end)) return refuse(position, text, 'a date outside the years 1000-9999', 'DTSTART')
      if (end.getTime() < start.getTime()) return refuse(position, text, 'the event ends before it starts', 'DTEND')
      if (end.getTime() === start.getTime()) return { ...base, startsAt: null, endsAt: null, notBusy: 'empty' }
      if (end.getTime() - start.getTime() > MAX_EVENT_MS) return refuse(position, text, 'longer than 31 days: not imported as busy time', 'DTEND')
      return { ...base, startsAt: start, endsAt: end, ...(wallClock ? { wallClock } : {}) }
    } catch (error) {
      return refuseFor(error, position, text)
    }
  }

  function refuseFor(error: unknown, position: number, text: string): Rejected {
    if (error instanceof EventFieldError) return refuse(position, text, error.message, error.field)
    if (error instanceof UnknownTimeZoneError) return refuse(position, text, error.message, 'TZID')
    return refuse(position, text, `malformed VEVENT: ${error instanceof Error ? error.message : String(error)}`)
  }

  function* finishFile(): Generator<ImportedEvent | Rejected> {
    for (const entry of waiting) yield single(entry.component, entry.uid, entry.text, entry.position)
    waiting.length = 0
    for (const [uid, series] of held) {
      held.delete(uid)
      const masterAt = series.masterAt ?? 0
      const position = series.positions[masterAt]!
      const first = series.texts[masterAt]!
      if (singleUids.has(uidKey(uid))) {
        for (let i = 0; i < series.texts.length; i++) {
          yield refuse(series.positions[i]!, series.texts[i]!, 'RECURRENCE-ID or RRULE for a UID whose event does not recur (or a duplicate UID)', 'UID')
        }
        continue
      }
      const unknown = [...series.tzids].find((tzid) => !timezones.has(tzid) && !isIanaZone(tzid))
      if (unknown !== undefined) {
        yield refuseFor(new UnknownTimeZoneError(unknown), position, first)
        continue
      }
      const zonesText = [...series.tzids].flatMap((tzid) => {
        const defined = timezones.get(tzid)
        return defined ? [defined.text] : []
      })
      const seriesIcs = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//prm//calendar import//EN', ...zonesText, ...series.texts, 'END:VCALENDAR', ''].join('\r\n')
      const master = series.masterAt === undefined ? undefined : series.texts[series.masterAt]
      let title: string | null = null
      try {
        const root = new ICAL.Component(ICAL.parse(seriesIcs) as unknown[])
        const masterComponent = root.getAllSubcomponents('vevent').find((vevent) => !vevent.hasProperty('recurrence-id'))
        title = titleOf(masterComponent ?? root.getFirstSubcomponent('vevent')!)
        // The master cancelled or transparent: the whole series is not busy.
        const notBusy = masterComponent ? notBusyReason(masterComponent) : null
        if (notBusy) {
          yield { kind: 'event', position, raw: (master ?? first).slice(0, RAW_KEPT), uid, title, seriesIcs: null, startsAt: null, endsAt: null, notBusy }
          continue
        }
      } catch (error) {
        yield refuseFor(error, position, first)
        continue
      }
      yield { kind: 'event', position, raw: (master ?? first).slice(0, RAW_KEPT), uid, title, seriesIcs, startsAt: null, endsAt: null }
    }
    heldBytes = 0
  }

  for await (const line of readContentLines(chunks, limits.maxLineBytes)) {
    const text = line.text
    if (!seenCalendar) {
      if (!line.valid) throw new CalendarFormatError('not an iCalendar file: it is not UTF-8 text')
      if (line.truncated || !/^BEGIN:VCALENDAR[ \t]*$/i.test(text)) {
        throw new CalendarFormatError('not an iCalendar file: it must begin with BEGIN:VCALENDAR')
      }
      seenCalendar = true
    }
    const match = !line.truncated && text.length <= 80 ? BEGIN_END.exec(text) : null
    const verb = match?.[1]!.toUpperCase()
    const name = match?.[2]!.toUpperCase()

    if (verb === 'BEGIN' && name) {
      if (extraDepth > 0 || stack.length >= MAX_DEPTH) {
        extraDepth++
        flag('components nested too deep')
        append(line)
        continue
      }
      stack.push(name)
      if (stack.length === 1) continue // VCALENDAR (or a stray top-level component: its content is skipped)
      if (stack.length === 2 && stack[0] === 'VCALENDAR') {
        if (name === 'VEVENT') record = { kind: 'vevent', position: ++eventNumber, lines: [], bytes: 0, problem: null }
        else if (name === 'VTIMEZONE') record = { kind: 'vtimezone', position: 0, lines: [], bytes: 0, problem: null }
        else record = { kind: 'other', position: 0, lines: [], bytes: 0, problem: null }
      }
      append(line)
      continue
    }
    if (verb === 'END' && name) {
      if (extraDepth > 0) {
        extraDepth--
        append(line)
        continue
      }
      const at = stack.lastIndexOf(name)
      if (at === -1) {
        flag(`unexpected END:${name} on line ${line.lineNumber}`)
        append(line)
        continue
      }
      if (at !== stack.length - 1) flag(`END:${stack[stack.length - 1]} missing before line ${line.lineNumber}`)
      append(line)
      stack.length = at
      if (record && stack.length <= 1) {
        const done = record
        record = null
        yield* finish(done)
      }
      continue
    }
    if (record) {
      if (line.truncated) flag(`line ${line.lineNumber} is longer than ${limits.maxLineBytes} bytes`)
      else if (!line.valid) flag(`line ${line.lineNumber} is not valid UTF-8`)
      append(line)
    }
  }
  if (!seenCalendar) throw new CalendarFormatError('empty file: no iCalendar data')
  const unfinished = record as OpenRecord | null
  if (unfinished) {
    const open = unfinished
    record = null
    if (!open.problem) open.problem = { reason: `the file ends inside ${open.kind.toUpperCase()} (END:${open.kind.toUpperCase()} missing)` }
    yield* finish(open)
  }
  yield* finishFile()

  function append(line: ContentLine): void {
    // Other components (VTODO, VJOURNAL, VFREEBUSY...) are skipped, not kept.
    if (!record || record.kind === 'other') return
    const cap = record.kind === 'vtimezone' ? MAX_TIMEZONE_BYTES : limits.maxRecordBytes
    if (record.bytes + line.text.length > cap) {
      flag(`${record.kind === 'vtimezone' ? 'VTIMEZONE' : 'event'} larger than ${cap} bytes`)
      return
    }
    record.lines.push(line.text)
    record.bytes += line.text.length + 2
  }
}

/** The event's UID (storable, at most 1,000 characters), else a stable hash of its text. */
function eventUid(component: IcalComponent, text: string): string {
  const uid = textProperty(component, 'uid')?.trim()
  if (uid && uid.length <= 1000 && isStorableText(uid)) return uid
  const basis = uid ? `uid:${uid}` : text
  return `sha256:${createHash('sha256').update(basis).digest('hex')}`
}

/** The properties of a VEVENT that make its busy time (and its title); the rest is not kept. */
const BUSY_PROPERTIES = new Set(['uid', 'dtstart', 'dtend', 'duration', 'rrule', 'rdate', 'exdate', 'recurrence-id', 'summary', 'status', 'transp'])

/** The VEVENT with only {@link BUSY_PROPERTIES} and no subcomponent (VALARM), as iCalendar text. */
function busyText(component: IcalComponent): string {
  for (const property of component.getAllProperties()) {
    if (!BUSY_PROPERTIES.has(property.name)) component.removeProperty(property)
  }
  component.removeAllSubcomponents()
  return component.toString()
}

/** A short key for the set of single UIDs seen (memory: about 60 bytes a UID). */
function uidKey(uid: string): string {
  return createHash('sha1').update(uid).digest('base64').slice(0, 16)
}

/** Every TZID parameter of the event's time properties. */
function tzidsOf(component: IcalComponent): string[] {
  const tzids = new Set<string>()
  for (const property of component.getAllProperties()) {
    const tzid = property.getParameter('tzid')
    if (typeof tzid === 'string' && tzid !== '') tzids.add(tzid)
  }
  return [...tzids]
}

/**
 * What makes a recurring VEVENT unusable, read now so it is refused with its position. `text` is the
 * VEVENT's unfolded lines: ical.js reads `INTERVAL=0` (or a negative one) as 1, so INTERVAL is read there.
 */
function checkRecurring(component: IcalComponent, text: string): EventFieldError | null {
  for (const line of text.split('\r\n')) {
    if (!/^RRULE[;:]/i.test(line)) continue
    const value = line.slice(line.indexOf(':') + 1)
    for (const part of value.split(';')) {
      const [name, interval] = part.split('=')
      if (name?.trim().toUpperCase() === 'INTERVAL' && !/^0*[1-9][0-9]*$/.test(interval?.trim() ?? '')) {
        return new EventFieldError('RRULE', `RRULE INTERVAL must be a positive integer (RFC 5545), not "${(interval ?? '').slice(0, 20)}"`)
      }
    }
  }
  try {
    if (!component.hasProperty('dtstart')) return new EventFieldError('DTSTART', 'DTSTART is missing')
    const start = component.getFirstPropertyValue('dtstart')
    if (!(start instanceof ICAL.Time) || start.year < MIN_YEAR || start.year > MAX_YEAR) return new EventFieldError('DTSTART', `DTSTART is not a date between ${MIN_YEAR} and ${MAX_YEAR}`)
    for (const rule of component.getAllProperties('rrule')) {
      const value = rule.getFirstValue()
      if (!(value instanceof ICAL.Recur)) return new EventFieldError('RRULE', 'RRULE is not a recurrence rule')
      // ical.js checks the BY parts when an iterator is made.
      value.iterator(start.clone())
    }
    for (const name of ['rdate', 'exdate', 'recurrence-id']) {
      for (const property of component.getAllProperties(name)) {
        for (const value of property.getValues()) {
          const time = value instanceof ICAL.Period ? value.start : value
          if (!(time instanceof ICAL.Time) || time.year < MIN_YEAR || time.year > MAX_YEAR) {
            return new EventFieldError(name.toUpperCase(), `${name.toUpperCase()} is not a date between ${MIN_YEAR} and ${MAX_YEAR}`)
          }
        }
      }
    }
    return null
  } catch (error) {
    return new EventFieldError('RRULE', `bad recurrence: ${(error as Error).message}`)
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
