/**
 * zod schemas for client input; the first issue becomes BAD_USER_INPUT naming
 * its field. Every string and date a client sends goes through the helpers
 * here, so nothing PostgreSQL cannot store (a NUL byte, a lone surrogate, a
 * year outside 1000-9999) reaches the database.
 */
import { z } from 'zod'
import { isValidTimeZone } from './calendar/free-slots.ts'
import { badUserInput } from './errors.ts'

/** Parses `value` or throws BAD_USER_INPUT with `extensions.field` = the path of the first issue (prefixed). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  throw badUserInput(`${field}: ${issue.message}`, field)
}

/** With the `u` flag a surrogate pair is one code point: only an unpaired half matches. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Text PostgreSQL stores as given: no NUL character (`text` cannot hold one)
 * and no lone surrogate (it is not Unicode; the driver would silently replace it).
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value)
}

/** The earliest and latest instant the API accepts: four-digit years, as RFC 3339 and every client write them. */
export const MIN_DATE = new Date('1000-01-01T00:00:00.000Z')
export const MAX_DATE = new Date('9999-12-31T23:59:59.999Z')

/** A valid Date within {@link MIN_DATE}..{@link MAX_DATE}. */
export function isStorableDate(value: Date): boolean {
  const time = value.getTime()
  return time >= MIN_DATE.getTime() && time <= MAX_DATE.getTime()
}

const STORABLE_TEXT = 'must be Unicode text without NUL characters'

/** Any string a client sends: the base of every text schema below. */
export const storableString = () => z.string().refine(isStorableText, STORABLE_TEXT)
/** A date a client sends (the DateTime scalar checks the same range first). */
export const storableDate = () => z.date().refine(isStorableDate, 'must be between the years 1000 and 9999')

export const timeZone = storableString().trim().refine(isValidTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin')
export const handle = storableString()
  .trim()
  .max(200)
  .regex(/^(https?:\/\/)?[\w@.\-/~%?=&+#:]+$/, 'must be a handle or a URL without spaces')
/** Trimmed, non-empty text of at most `max` characters. */
export const text = (max: number) => storableString().trim().min(1).max(max)
/** An email address (zod's rule, the same for users and contacts), trimmed, at most 254 characters. */
export const emailAddress = storableString().trim().email('must be an email address').max(254)

/**
 * An integer in `min..max` (a page size, a limit); the message names the value
 * given, e.g. `first: must be an integer between 1 and 1000, got 0`.
 */
export const intBetween = (min: number, max: number) =>
  z
    .number({ error: (issue) => `must be an integer between ${min} and ${max}, got ${String(issue.input)}` })
    .int()
    .min(min)
    .max(max)

/** Days in `month` (1..12) of `year` (Gregorian). */
const daysInMonth = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31)

/** `YYYY-MM-DD` (a real date, years 1000..9999) or `--MM-DD` (a date without year; --02-29 too), as RFC 6350 writes BDAY. */
export function isCalendarDate(value: string): boolean {
  const match = /^(?:(\d{4})-|--)(\d{2})-(\d{2})$/.exec(value)
  if (!match) return false
  const year = match[1] === undefined ? 2000 : Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  return year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

/** A birthday or anniversary a client sends: see {@link isCalendarDate} (trimmed). */
export const calendarDate = () => storableString().trim().refine(isCalendarDate, 'must be a date as YYYY-MM-DD, or --MM-DD without the year')
