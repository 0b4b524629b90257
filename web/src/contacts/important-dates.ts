/** Birthdays and anniversaries (`YYYY-MM-DD` or `--MM-DD`, RFC 6350) as people read them: "12 Mar (in 3 weeks)". */
import { formatDayMonth, formatDaysAhead } from '../format.ts'
import { DAY_MS } from '../time.ts'

/** The month and day of `YYYY-MM-DD` or `--MM-DD`; null for anything else. */
export function monthDayOf(value: string): { month: number; day: number } | null {
  const match = /^(?:\d{4}|--)-?(\d{2})-(\d{2})$/.exec(value)
  if (!match) return null
  const month = Number(match[1])
  const day = Number(match[2])
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 ? { month, day } : null
}

/** Whole days from `today` (local) to the next `month`/`day` (0: today); 29 Feb falls on 28 Feb in other years. */
export function daysUntil(month: number, day: number, today: Date): number {
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate())
  const on = (year: number) => {
    const leap = new Date(year, 1, 29).getMonth() === 1
    return new Date(year, month - 1, month === 2 && day === 29 && !leap ? 28 : day)
  }
  let next = on(start.getFullYear())
  if (next < start) next = on(start.getFullYear() + 1)
  // Rounded: a day across a daylight-saving change is 23 or 25 hours.
  return Math.round((next.getTime() - start.getTime()) / DAY_MS)
}

/** "12 Mar (in 3 weeks)", or the value as written when it is not a date. */
export function describeYearly(value: string, today: Date): string {
  const parts = monthDayOf(value)
  if (!parts) return value
  return `${formatDayMonth(parts.month, parts.day)} (${formatDaysAhead(daysUntil(parts.month, parts.day, today))})`
}
