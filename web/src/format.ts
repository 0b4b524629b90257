/** Dates and labels as people read them. Intl formatters are cached: making one costs far more than using it. */
import { DAY_MS, MINUTE_MS } from './time.ts'

const formatters = new Map<string, Intl.DateTimeFormat>()

const FORMATS: Record<'dateTime' | 'time' | 'date' | 'day', Intl.DateTimeFormatOptions> = {
  dateTime: { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  day: { weekday: 'short', day: 'numeric', month: 'short' },
}

function formatter(timeZone: string | undefined, kind: keyof typeof FORMATS): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${kind}`
  let cached = formatters.get(key)
  if (!cached) {
    const options = FORMATS[kind]
    try {
      cached = new Intl.DateTimeFormat('en-GB', { ...options, ...(timeZone ? { timeZone } : {}) })
    } catch {
      // An unknown time zone name: show the browser's time rather than nothing.
      cached = new Intl.DateTimeFormat('en-GB', options)
    }
    formatters.set(key, cached)
  }
  return cached
}

/** "Thu 27 Nov, 14:00" in the given IANA zone (the browser's when none). */
export function formatDateTime(iso: string, timeZone?: string | null): string {
  return formatter(timeZone ?? undefined, 'dateTime').format(new Date(iso))
}

/** "14:00" in the given zone. */
export function formatTime(iso: string, timeZone?: string | null): string {
  return formatter(timeZone ?? undefined, 'time').format(new Date(iso))
}

/** "27 Nov 2026". */
export function formatDate(iso: string, timeZone?: string | null): string {
  return formatter(timeZone ?? undefined, 'date').format(new Date(iso))
}

const counts = new Intl.NumberFormat('en-GB')

/** "1,965": a count as the dates are written (en-GB), whatever the browser's language. */
export function formatCount(n: number): string {
  return counts.format(n)
}

/** "America/Argentina/Buenos_Aires" → "Buenos Aires": short enough for a phone. */
export function zoneCity(zone: string): string {
  return (zone.split('/').at(-1) ?? zone).replaceAll('_', ' ')
}

/** A slot in the user's zone and, when known, in the contact's: what a row shows. */
export function describeSlot(slot: { start: string; end: string }, userZone: string | null | undefined, contactZone: string | null | undefined) {
  return {
    yours: `${formatDateTime(slot.start, userZone)}–${formatTime(slot.end, userZone)}`,
    theirs: contactZone ? `${formatDateTime(slot.start, contactZone)} their time (${zoneCity(contactZone)})` : null,
  }
}

export const CIRCLES = ['INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE'] as const
export type Circle = (typeof CIRCLES)[number]

const circleLabels: Record<Circle, string> = {
  INNER: 'Inner circle',
  CLOSE: 'Close',
  ACTIVE: 'Active',
  CASUAL: 'Casual',
  ACQUAINTANCE: 'Acquaintance',
}

export function circleLabel(circle: string | null | undefined): string {
  return circle && circle in circleLabels ? circleLabels[circle as Circle] : 'No circle'
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** "12 Mar" for a month (1-12) and day: a birthday or anniversary, whatever the year. */
export function formatDayMonth(month: number, day: number): string {
  return `${day} ${MONTHS[month - 1] ?? '?'}`
}

/** "today", "tomorrow", "in 5 days", "in 3 weeks", "in 4 months" for whole days ahead. */
export function formatDaysAhead(days: number): string {
  if (days <= 0) return 'today'
  if (days === 1) return 'tomorrow'
  if (days < 14) return `in ${days} days`
  if (days < 61) return `in ${Math.round(days / 7)} weeks`
  return `in ${Math.round(days / 30.44)} months`
}

/** "Mon 7 Dec" in the given zone (the browser's when none): a day in the coming months, as a snooze or a hiding ends. */
export function formatDay(iso: string, timeZone?: string | null): string {
  return formatter(timeZone ?? undefined, 'day').format(new Date(iso)).replace(',', '')
}

/** "just now", "1 min ago", "5 min ago", "2 h ago": how long ago `ms` milliseconds were. */
export function formatAgo(ms: number): string {
  const minutes = Math.floor(ms / MINUTE_MS)
  if (minutes < 1) return 'just now'
  if (minutes < 60) return `${minutes} min ago`
  return `${Math.floor(minutes / 60)} h ago`
}

/** "7 days", "1 day": whole days from `fromIso` to `toIso`, rounded (a DST day counts as one). */
export function formatDays(fromIso: string, toIso: string): string {
  const days = Math.max(1, Math.round((new Date(toIso).getTime() - new Date(fromIso).getTime()) / DAY_MS))
  return `${days} day${days === 1 ? '' : 's'}`
}
