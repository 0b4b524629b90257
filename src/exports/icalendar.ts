/**
 * Busy calendar events and accepted suggestions as iCalendar (RFC 5545): one VCALENDAR, one VEVENT
 * each, built with ical.js (escaping of TEXT: backslash, semicolon, comma, newline) and folded at 75
 * octets by content-lines.ts. Times are UTC (`...Z`). Pure: `now` is passed in.
 */
import ICAL from 'ical.js'
import { cleanText, CRLF, foldLine, oneLine } from './content-lines.ts'

/** A busy event of the user. */
export interface ExportEvent {
  id: string
  title: string | null
  startsAt: Date
  endsAt: Date
  /** The UID it was imported with (null or absent: added through the API). */
  uid?: string | null
  /** One occurrence of an imported recurring series (its `uid` is the series'). */
  occurrence?: boolean
}

/** An accepted suggestion with its slot, and its contact's name. */
export interface ExportSuggestion {
  id: string
  contactName: string
  reason: string
  slotStart: Date
  slotEnd: Date
  updatedAt: Date
}

export const PRODUCT_ID = '-//Suggestions server//Export//EN'

const design = ICAL.design.getDesignSet('icalendar')

type Props = [name: string, value: string | Date][]

function lines(name: string, props: Props): string {
  const component = new ICAL.Component(name)
  for (const [prop, value] of props) {
    const property = new ICAL.Property(prop, component)
    if (value instanceof Date) property.setValue(ICAL.Time.fromJSDate(value, true))
    else property.setValue(cleanText(value))
    component.addProperty(property)
  }
  let text = `BEGIN:${name.toUpperCase()}${CRLF}`
  for (const property of component.getAllProperties()) text += foldLine(ICAL.stringify.property(property.toJSON(), design, true)) + CRLF
  return text
}

/**
 * The opening of the calendar: `BEGIN:VCALENDAR`, VERSION, PRODID, CALSCALE, and, when given,
 * `X-WR-CALNAME` and a refresh hint (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`) for feeds.
 */
export function calendarHead(options: { name?: string; refreshMinutes?: number } = {}): string {
  const props: Props = [
    ['version', '2.0'],
    ['prodid', PRODUCT_ID],
    ['calscale', 'GREGORIAN'],
  ]
  if (options.name) props.push(['x-wr-calname', options.name])
  let head = lines('vcalendar', props)
  if (options.refreshMinutes) {
    head += `REFRESH-INTERVAL;VALUE=DURATION:PT${options.refreshMinutes}M${CRLF}X-PUBLISHED-TTL:PT${options.refreshMinutes}M${CRLF}`
  }
  return head
}

export const CALENDAR_TAIL = `END:VCALENDAR${CRLF}`

/** A sanitised UID domain: the host part of `UID:<id>@<domain>`. */
export const uidOf = (id: string, domain: string) => `${oneLine(id)}@${oneLine(domain)}`

/**
 * A busy event: UID, DTSTAMP `now`, DTSTART/DTEND, SUMMARY (its title, or "Busy"), TRANSP OPAQUE.
 *
 * The UID is what importing the file back into the same user finds the event by (event-writes.ts):
 * - an imported single event: the UID it was imported with (its `uid`);
 * - an event added through the API (no `uid`), or one occurrence of an imported recurring series
 *   (exported expanded, one VEVENT each, without RRULE): `<event id>@<domain>`, the row's own id, so
 *   occurrences never share the series' UID (they would replace one another, or the series).
 */
export function eventToVEvent(event: ExportEvent, domain: string, now: Date): string {
  return (
    lines('vevent', [
      ['uid', event.uid && !event.occurrence ? oneLine(event.uid) : uidOf(event.id, domain)],
      ['dtstamp', now],
      ['dtstart', event.startsAt],
      ['dtend', event.endsAt],
      ['summary', event.title ?? 'Busy'],
      ['transp', 'OPAQUE'],
    ]) + `END:VEVENT${CRLF}`
  )
}

/**
 * An accepted suggestion: UID `<suggestion id>@<domain>` (imported back into the same user it is
 * skipped as unchanged: the plan is already stored), DTSTAMP and LAST-MODIFIED its last change
 * (stable between fetches of a feed), SUMMARY "Catch up with <name>", DESCRIPTION its reason, STATUS CONFIRMED.
 */
export function suggestionToVEvent(suggestion: ExportSuggestion, domain: string): string {
  return (
    lines('vevent', [
      ['uid', uidOf(suggestion.id, domain)],
      ['dtstamp', suggestion.updatedAt],
      ['last-modified', suggestion.updatedAt],
      ['dtstart', suggestion.slotStart],
      ['dtend', suggestion.slotEnd],
      ['summary', `Catch up with ${suggestion.contactName}`],
      ['description', suggestion.reason],
      ['status', 'CONFIRMED'],
    ]) + `END:VEVENT${CRLF}`
  )
}
