/**
 * Contacts as vCard 4.0 (RFC 6350): one card per contact, built as an ical.js `vcard`
 * component and printed property by property with ical.js's escaping (backslash, comma,
 * newline; semicolons inside structured values; RFC 6868 in parameters), folded at 75
 * octets by content-lines.ts. Pure: no database, no clock.
 *
 * The mapping is the inverse of the contacts import (imports/contacts), so a card read back
 * gives the same contact (see {@link contactToVCard}).
 */
import ICAL from 'ical.js'
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

const design = ICAL.design.getDesignSet('vcard')

type Component = InstanceType<typeof ICAL.Component>
type Property = InstanceType<typeof ICAL.Property>

/** A property of `card` (so ical.js types its value by the vCard 4.0 design), added to it. */
function property(card: Component, name: string, value: string | string[], params: Record<string, string> = {}, type?: string): Property {
  const prop = new ICAL.Property(name, card)
  if (type) prop.resetType(type)
  for (const [key, param] of Object.entries(params)) prop.setParameter(key, oneLine(param))
  if (Array.isArray(value)) prop.setValues(value.map(cleanText))
  else prop.setValue(cleanText(value))
  card.addProperty(prop)
  return prop
}

/**
 * One contact as a vCard 4.0 card, CRLF-terminated. Mapping (property <- field):
 * `UID` <- externalId ?? id; `FN` <- name; `EMAIL` <- each of emails (the first `PREF=1`);
 * `TEL;VALUE=text` <- each of phones (the first `PREF=1`); `X-SOCIALPROFILE;TYPE=linkedin|instagram|x`
 * <- linkedIn, instagram, xHandle, and `TYPE=<label>` <- each otherSocialMedia entry; `ADR;LABEL=<location>`
 * with the location as its street component <- location; `TZ` <- timezone; `NOTE` <- customNotes;
 * `CATEGORIES` <- group names then tags (see {@link categoriesOf}); `BDAY` <- birthday (`--MMDD`
 * without a year). Empty fields are left out.
 */
export function contactToVCard(contact: ExportContact, groupNames: ReadonlyMap<string, string>): string {
  const card = new ICAL.Component('vcard')
  property(card, 'version', '4.0')
  property(card, 'uid', oneLine(contact.externalId ?? contact.id))
  property(card, 'fn', contact.name)
  emailsOf(contact).forEach((email, index) => property(card, 'email', oneLine(email), index === 0 ? { pref: '1' } : {}))
  phonesOf(contact).forEach((phone, index) => property(card, 'tel', oneLine(phone), index === 0 ? { pref: '1' } : {}, 'text'))
  for (const [field, type] of Object.entries(SOCIAL_PROFILE_TYPES) as [keyof typeof SOCIAL_PROFILE_TYPES, string][]) {
    const value = contact[field]
    if (value) property(card, 'x-socialprofile', oneLine(value), { type })
  }
  for (const [label, url] of otherProfilesOf(contact.otherSocialMedia)) property(card, 'x-socialprofile', oneLine(url), { type: label })
  if (contact.location) {
    const adr = new ICAL.Property('adr', card)
    adr.setParameter('label', cleanText(contact.location))
    adr.setValue(['', '', cleanText(contact.location), '', '', '', ''])
    card.addProperty(adr)
  }
  if (contact.timezone) property(card, 'tz', oneLine(contact.timezone), {}, 'text')
  if (contact.customNotes) property(card, 'note', contact.customNotes)
  const categories = categoriesOf(contact, groupNames)
  if (categories.length > 0) property(card, 'categories', categories)
  const birthday = contact.birthday ? vcardDate(contact.birthday) : null
  if (birthday) property(card, 'bday', birthday, {}, 'date-and-or-time')

  let text = `BEGIN:VCARD${CRLF}`
  for (const prop of card.getAllProperties()) text += foldLine(ICAL.stringify.property(prop.toJSON(), design, true)) + CRLF
  return `${text}END:VCARD${CRLF}`
}
