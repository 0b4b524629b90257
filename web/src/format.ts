/** Dates and labels as people read them. Intl formatters are cached: making one costs far more than using it. */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string | undefined, kind: 'dateTime' | 'time' | 'date'): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${kind}`
  let cached = formatters.get(key)
  if (!cached) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'time'
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : kind === 'date'
          ? { year: 'numeric', month: 'short', day: 'numeric' }
          : { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
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

const dayFormatters = new Map<string, Intl.DateTimeFormat>()

/** "Mon 7 Dec" in the given zone (the browser's when none): a day in the coming months, as a snooze or a hiding ends. */
export function formatDay(iso: string, timeZone?: string | null): string {
  const key = timeZone ?? ''
  let cached = dayFormatters.get(key)
  if (!cached) {
    const options: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short' }
    try {
      cached = new Intl.DateTimeFormat('en-GB', { ...options, ...(timeZone ? { timeZone } : {}) })
    } catch {
      cached = new Intl.DateTimeFormat('en-GB', options)
    }
    dayFormatters.set(key, cached)
  }
  return cached.format(new Date(iso)).replace(',', '')
}

/** "just now", "1 min ago", "5 min ago", "2 h ago": how long ago `ms` milliseconds were. */
export function formatAgo(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 60) return `${minutes} min ago`
  return `${Math.floor(minutes / 60)} h ago`
}

/** "7 days", "1 day": whole days from `fromIso` to `toIso`, rounded (a DST day counts as one). */
export function formatDays(fromIso: string, toIso: string): string {
  const days = Math.max(1, Math.round((new Date(toIso).getTime() - new Date(fromIso).getTime()) / 86_400_000))
  return `${days} day${days === 1 ? '' : 's'}`
}
