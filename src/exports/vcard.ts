/**
 * Contacts as vCard 4.0 (RFC 6350): one card per contact, with ical.js's escaping (backslash,
 * comma, newline; semicolons inside structured values; RFC 6868 in parameters; the tests check
 * the bytes against ical.js's own writer), folded at 75 octets by content-lines.ts. Pure: no
 * database, no clock.
 *
 * The mapping is the inverse of the contacts import (imports/contacts), so a card read back
 * gives the same contact (see {@link contactToVCard}).
 */
import { cleanText, CRLF, foldLine, oneLine } from './content-lines.ts'

/** The columns of a contact an export writes. */
export interface ExportContact {
  id: string
  name: string
  email: string | null
  phone: string | null
  emails: string[]
  phones: string[]
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  /** `{ label: url }` as stored (anything else in the JSON is skipped). */
  otherSocialMedia: unknown
  location: string | null
  timezone: string | null
  customNotes: string | null
  tags: string[]
  groupIds: string[]
  /** `YYYY-MM-DD` or `--MM-DD`. */
  birthday: string | null
  /** `YYYY-MM-DD` or `--MM-DD`. */
  anniversary?: string | null
  externalId: string | null
}

/** `X-SOCIALPROFILE` types of the three named profile fields (the import reads them back). */
export const SOCIAL_PROFILE_TYPES = { linkedIn: 'linkedin', instagram: 'instagram', xHandle: 'x' } as const

/** Every e-mail of a contact: `emails`, or the single `email` of a contact created before `emails` existed. */
export const emailsOf = (contact: Pick<ExportContact, 'email' | 'emails'>): string[] =>
  contact.emails.length > 0 ? contact.emails : contact.email ? [contact.email] : []
/** Every phone, as {@link emailsOf}. */
export const phonesOf = (contact: Pick<ExportContact, 'phone' | 'phones'>): string[] =>
  contact.phones.length > 0 ? contact.phones : contact.phone ? [contact.phone] : []

/** The `{ label: url }` entries of `otherSocialMedia` whose values are strings, in key order. */
export function otherProfilesOf(value: unknown): [string, string][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return []
  return Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== '')
}

/** The contact's group names (ids without a name are skipped) then its tags, without repeats: CATEGORIES and Google "Labels". */
export function categoriesOf(contact: Pick<ExportContact, 'groupIds' | 'tags'>, groupNames: ReadonlyMap<string, string>): string[] {
  const names = contact.groupIds.map((id) => groupNames.get(id)).filter((name): name is string => name !== undefined)
  return [...new Set([...names, ...contact.tags])]
}

/** `YYYY-MM-DD` as vCard 4.0's `YYYYMMDD`, `--MM-DD` as `--MMDD`; anything else null. */
export function vcardDate(birthday: string): string | null {
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthday)
  if (full) return `${full[1]}${full[2]}${full[3]}`
  const noYear = /^--(\d{2})-?(\d{2})$/.exec(birthday)
  return noYear ? `--${noYear[1]}${noYear[2]}` : null
}

/** TEXT as vCard 4.0 escapes it (RFC 6350 §3.4): backslash, comma, newline; `;` too inside a structured value. */
export function escapeVCardText(value: string, structured = false): string {
  return cleanText(value).replace(structured ? /[\\,;\n]/g : /[\\,\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`))
}

/** A parameter value (RFC 6868 for `^`, newline and `"`), quoted when it holds `,` `:` or `;`. */
export function vcardParam(value: string): string {
  const encoded = cleanText(value).replace(/[\n^"]/g, (char) => (char === '\n' ? '^n' : char === '^' ? '^^' : "^'"))
  return /[,:;]/.test(encoded) ? `"${encoded}"` : encoded
}

/** One content line, folded, with its CRLF: `NAME;PARAM=value:value`. */
const line = (nameAndParams: string, value: string) => foldLine(`${nameAndParams}:${value}`) + CRLF

/**
 * One contact as a vCard 4.0 card, CRLF-terminated. Mapping (property <- field):
 * `UID` <- externalId ?? id; `FN` <- name; `EMAIL` <- each of emails (the first `PREF=1`);
 * `TEL;VALUE=TEXT` <- each of phones (the first `PREF=1`); `X-SOCIALPROFILE;TYPE=linkedin|instagram|x`
 * <- linkedIn, instagram, xHandle, and `TYPE=<label>` <- each otherSocialMedia entry; `ADR;LABEL=<location>`
 * with the location as its street component <- location; `TZ` <- timezone; `NOTE` <- customNotes;
 * `CATEGORIES` <- group names then tags (see {@link categoriesOf}); `BDAY` <- birthday, `ANNIVERSARY` <-
 * anniversary (`--MMDD` without a year). Empty fields are left out. The export never writes a
 * frequency: a contact's cadence (own or a group's) is not part of a vCard.
 *
 * Written by hand rather than through ical.js's `Component`/`stringify` (which the tests use as
 * the oracle: the same bytes for any contact): ical.js takes about 50 µs a card, a minute for a
 * million contacts, this a few µs; and its folding lets continuation lines reach 76 octets.
 */
export function contactToVCard(contact: ExportContact, groupNames: ReadonlyMap<string, string>): string {
  let card = `BEGIN:VCARD${CRLF}VERSION:4.0${CRLF}`
  card += line('UID', escapeVCardText(oneLine(contact.externalId ?? contact.id)))
  card += line('FN', escapeVCardText(contact.name))
  emailsOf(contact).forEach((email, index) => (card += line(index === 0 ? 'EMAIL;PREF=1' : 'EMAIL', escapeVCardText(oneLine(email)))))
  phonesOf(contact).forEach((phone, index) => (card += line(index === 0 ? 'TEL;PREF=1;VALUE=TEXT' : 'TEL;VALUE=TEXT', escapeVCardText(oneLine(phone)))))
  for (const [field, type] of Object.entries(SOCIAL_PROFILE_TYPES) as [keyof typeof SOCIAL_PROFILE_TYPES, string][]) {
    const value = contact[field]
    if (value) card += line(`X-SOCIALPROFILE;TYPE=${type}`, oneLine(value))
  }
  for (const [label, url] of otherProfilesOf(contact.otherSocialMedia)) card += line(`X-SOCIALPROFILE;TYPE=${vcardParam(oneLine(label))}`, oneLine(url))
  if (contact.location) card += line(`ADR;LABEL=${vcardParam(contact.location)}`, `;;${escapeVCardText(contact.location, true)};;;;`)
  if (contact.timezone) card += line('TZ', escapeVCardText(oneLine(contact.timezone)))
  if (contact.customNotes) card += line('NOTE', escapeVCardText(contact.customNotes))
  const categories = categoriesOf(contact, groupNames)
  if (categories.length > 0) card += line('CATEGORIES', categories.map((category) => escapeVCardText(category)).join(','))
  const birthday = contact.birthday ? vcardDate(contact.birthday) : null
  if (birthday) card += line('BDAY', birthday)
  const anniversary = contact.anniversary ? vcardDate(contact.anniversary) : null
  if (anniversary) card += line('ANNIVERSARY', anniversary)
  return `${card}END:VCARD${CRLF}`
}
