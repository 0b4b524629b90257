/**
 * From what a card or a row says to an {@link ImportedContact}: pure functions, shared by the vCard and
 * the CSV readers. The limits are createContact's (contact-writes.ts), so an import stores nothing a
 * mutation would refuse. The rule for a value that does not fit:
 * - the name (required) too long or not storable: the record is Rejected, naming the field;
 * - no name, e-mail or phone at all: Rejected `no name`;
 * - an optional field that is invalid (a malformed e-mail or phone, an unknown time zone, a bad birthday,
 *   a handle with spaces, a note over 10,000 characters, a label over 50): left out, and listed in
 *   `dropped` so the report names it. The contact is imported with everything else.
 */
import { createHash } from 'node:crypto'
import { emailAddress, handle, isStorableText, timeZone } from '../../validation.ts'
import type { DroppedField, ImportedContact, Rejected } from '../types.ts'

export { emailKey, matchKeysOf, phoneKey } from '../../contacts/match-keys.ts'

/** createContact's limits (contact-writes.ts contactFields), and the import's own bounds on lists. */
export const CONTACT_LIMITS = {
  name: 200,
  location: 200,
  customNotes: 10_000,
  tag: 50,
  tags: 50,
  emails: 50,
  phones: 50,
  otherSocialMedia: 20,
  socialLabel: 50,
  socialUrl: 500,
  externalId: 200,
} as const

/** The `raw` text kept for a record: at most 2 KiB (RecordPosition.raw). */
export const MAX_RAW_CHARS = 2048

/** The phone rule of createContact. */
const PHONE = /^\+?[\d\s().-]{3,30}$/

/** A value the card or row gave with where it came from: `pref` marks the primary one. */
export interface Labeled {
  value: string
  /** The type or label (`work`, `LinkedIn`, `_$!<HomePage>!$_`), for social URLs. */
  label?: string
  pref?: boolean
}

/** What a reader collected from one card or row, before the limits. */
export interface ContactDraft {
  position: number
  raw: string
  source: 'VCARD' | 'CSV'
  /** The card's UID; else the caller passes a hash of the record (see {@link stableHash}). */
  externalId: string
  formattedName?: string | null
  givenName?: string | null
  middleName?: string | null
  familyName?: string | null
  organization?: string | null
  emails: Labeled[]
  phones: Labeled[]
  /** URLs and handles of profiles: sorted to linkedIn / instagram / xHandle / otherSocialMedia. */
  socials: Labeled[]
  location?: string | null
  timezone?: string | null
  note?: string | null
  groups: string[]
  birthday?: string | null
  /** Apple's X-APPLE-OMIT-YEAR: the year written in BDAY that means "no year". */
  birthdayOmitYear?: string | null
  /** vCard 4 ANNIVERSARY, vCard 3 X-ANNIVERSARY: read as a birthday is. */
  anniversary?: string | null
}

/** A short stable hash (sha256, 32 hex characters) of the parts: a row's identity when it has no UID. */
export function stableHash(parts: readonly string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\u0000')
  return hash.digest('hex').slice(0, 32)
}

/** Keeps at most {@link MAX_RAW_CHARS} of a record's text. */
export function clipRaw(raw: string): string {
  return raw.length > MAX_RAW_CHARS ? raw.slice(0, MAX_RAW_CHARS) : raw
}

function clean(value: string | null | undefined): string {
  return (value ?? '').replace(/\s+/g, ' ').trim()
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function validDay(month: number, day: number, year = 2000): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * A birthday as `YYYY-MM-DD`, or `--MM-DD` without a year; null when it is none of the forms exports
 * write (vCard 4 `--0415` / `--04-15` / `19850415`, vCard 3 `1985-04-15` (a time after it ignored),
 * Apple's `X-APPLE-OMIT-YEAR=1604` (and its year 1604 alone), Outlook's `4/15/1985` (US; `15/04/1985` when the first cannot be a month) or `15.04.1985`).
 * Outlook's "no birthday" (`0/0/00`, `1/1/0001`) is null too. Years outside 1000..9999 are null.
 */
export function normalizeBirthday(value: string | null | undefined, omitYear?: string | null): string | null {
  const text = clean(value)
  if (!text) return null
  let year: number | null = null
  let month: number
  let day: number
  let match: RegExpMatchArray | null
  if ((match = /^--(\d{2})-?(\d{2})$/.exec(text))) {
    month = Number(match[1])
    day = Number(match[2])
  } else if ((match = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/.exec(text))) {
    year = Number(match[1])
    month = Number(match[2])
    day = Number(match[3])
  } else if ((match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text))) {
    year = Number(match[3])
    month = Number(match[1])
    day = Number(match[2])
    // US order unless it cannot be (15/04/1985 is day first, as British Outlook writes it).
    if (month > 12 && day <= 12) [month, day] = [day, month]
  } else if ((match = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(text))) {
    year = Number(match[3])
    month = Number(match[2])
    day = Number(match[1])
  } else {
    return null
  }
  if (year !== null && (year === 1604 || (omitYear && String(year) === clean(omitYear)))) year = null
  if (year !== null && (year < 1000 || year > 9999)) return null
  if (!validDay(month, day, year ?? 2000)) return null
  return year === null ? `--${pad(month)}-${pad(day)}` : `${year}-${pad(month)}-${pad(day)}`
}

/** Apple writes labels as `_$!<HomePage>!$_`. */
function labelText(label: string | undefined): string {
  return clean(label?.replace(/^_\$!<(.*)>!\$_$/, '$1'))
}

type SocialKind = 'linkedIn' | 'instagram' | 'xHandle'

function socialKind(value: string, label: string): SocialKind | null {
  const lower = value.toLowerCase()
  const tag = label.toLowerCase()
  if (/(^|\.|\/\/)linkedin\.com\//.test(lower) || tag === 'linkedin') return 'linkedIn'
  if (/(^|\.|\/\/)instagram\.com\//.test(lower) || tag === 'instagram') return 'instagram'
  if (/(^|\.|\/\/)(twitter|x)\.com\//.test(lower) || tag === 'twitter' || tag === 'x') return 'xHandle'
  return null
}

/** The host of a URL (`linkedin.com`), or its scheme when it has none (`xmpp`). */
function hostOf(value: string): string | null {
  try {
    const url = new URL(value)
    return url.hostname.replace(/^www\./, '') || url.protocol.replace(/:$/, '') || null
  } catch {
    return null
  }
}

function firstPreferred(values: readonly Labeled[]): Labeled[] {
  const preferred = values.filter((value) => value.pref)
  return [...preferred, ...values.filter((value) => !value.pref)]
}

/**
 * The contact of a draft, or why it is rejected. Every optional field left out is in `dropped`.
 * See the module comment for the rules.
 */
export function finishContact(draft: ContactDraft): ImportedContact | Rejected {
  const dropped: DroppedField[] = []
  const reject = (reason: string, field?: string): Rejected => ({ kind: 'rejected', position: draft.position, raw: clipRaw(draft.raw), reason, ...(field ? { field } : {}) })
  const drop = (field: string, reason: string) => {
    dropped.push({ field, reason })
  }
  const storable = (field: string, value: string | null | undefined): string => {
    const text = clean(value)
    if (text && !isStorableText(text)) {
      drop(field, 'not storable text (NUL character or lone surrogate)')
      return ''
    }
    return text
  }

  const emails: string[] = []
  const seenEmails = new Set<string>()
  for (const { value } of firstPreferred(draft.emails)) {
    const text = storable('email', value)
    if (!text) continue
    const parsed = emailAddress.safeParse(text)
    if (!parsed.success) drop('email', `not an e-mail address: ${text.slice(0, 100)}`)
    else if (!seenEmails.has(parsed.data.toLowerCase())) {
      if (emails.length >= CONTACT_LIMITS.emails) drop('email', `more than ${CONTACT_LIMITS.emails} e-mails`)
      else {
        seenEmails.add(parsed.data.toLowerCase())
        emails.push(parsed.data)
      }
    }
  }
  const phones: string[] = []
  for (const { value } of firstPreferred(draft.phones)) {
    const text = storable('phone', value)
    if (!text) continue
    if (!PHONE.test(text)) drop('phone', `not a phone number (3-30 digits, spaces, +().-): ${text.slice(0, 100)}`)
    else if (!phones.includes(text)) {
      if (phones.length >= CONTACT_LIMITS.phones) drop('phone', `more than ${CONTACT_LIMITS.phones} phones`)
      else phones.push(text)
    }
  }

  const given = [draft.givenName, draft.middleName, draft.familyName].map((part) => clean(part)).filter(Boolean).join(' ')
  const named = clean(draft.formattedName) || given || clean(draft.organization)
  if (named && !isStorableText(named)) return reject('the name is not storable text (NUL character or lone surrogate)', 'name')
  if (named.length > CONTACT_LIMITS.name) return reject(`the name is longer than ${CONTACT_LIMITS.name} characters`, 'name')
  const name = named || emails[0] || phones[0]
  if (!name) return reject('no name, e-mail or phone', 'name')

  const social: Record<SocialKind, string | null> = { linkedIn: null, instagram: null, xHandle: null }
  let others: Record<string, string> | null = null
  for (const { value, label } of draft.socials) {
    const url = storable('socialProfile', value)
    if (!url) continue
    const tag = labelText(label)
    const kind = socialKind(url, tag)
    if (kind && social[kind] === null) {
      const parsed = handle.safeParse(url)
      if (parsed.success) {
        social[kind] = parsed.data
        continue
      }
      drop(kind, `not a handle or URL without spaces: ${url.slice(0, 100)}`)
      continue
    }
    if (url.length > CONTACT_LIMITS.socialUrl) {
      drop('otherSocialMedia', `a URL longer than ${CONTACT_LIMITS.socialUrl} characters`)
      continue
    }
    others ??= {}
    if (Object.values(others).includes(url)) continue
    if (Object.keys(others).length >= CONTACT_LIMITS.otherSocialMedia) {
      drop('otherSocialMedia', `more than ${CONTACT_LIMITS.otherSocialMedia} profiles`)
      continue
    }
    const base: string = (tag || hostOf(url) || 'profile').slice(0, CONTACT_LIMITS.socialLabel)
    let key: string = base
    for (let n = 2; key in others; n++) key = `${base} ${n}`
    others[key] = url
  }

  let location: string | null = storable('location', draft.location) || null
  if (location && location.length > CONTACT_LIMITS.location) {
    drop('location', `longer than ${CONTACT_LIMITS.location} characters`)
    location = null
  }
  let timezone: string | null = null
  const zone = storable('timezone', draft.timezone)
  if (zone) {
    const parsed = timeZone.safeParse(zone)
    if (parsed.success) timezone = parsed.data
    else drop('timezone', `not an IANA time zone: ${zone.slice(0, 100)}`)
  }
  // Notes keep their line breaks: only the ends are trimmed.
  let customNotes: string | null = (draft.note ?? '').trim() || null
  if (customNotes && !isStorableText(customNotes)) {
    drop('customNotes', 'not storable text (NUL character or lone surrogate)')
    customNotes = null
  } else if (customNotes && customNotes.length > CONTACT_LIMITS.customNotes) {
    drop('customNotes', `longer than ${CONTACT_LIMITS.customNotes} characters`)
    customNotes = null
  }
  const birthdayText = storable('birthday', draft.birthday)
  const birthday = normalizeBirthday(birthdayText, draft.birthdayOmitYear)
  if (birthdayText && !birthday) drop('birthday', `not a date: ${birthdayText.slice(0, 100)}`)
  const anniversaryText = storable('anniversary', draft.anniversary)
  const anniversary = normalizeBirthday(anniversaryText)
  if (anniversaryText && !anniversary) drop('anniversary', `not a date: ${anniversaryText.slice(0, 100)}`)

  const groups: string[] = []
  for (const label of draft.groups) {
    const text = storable('groups', label)
    if (!text || groups.includes(text)) continue
    if (text.length > CONTACT_LIMITS.tag) drop('groups', `a label longer than ${CONTACT_LIMITS.tag} characters: ${text.slice(0, 60)}`)
    else if (groups.length >= CONTACT_LIMITS.tags) drop('groups', `more than ${CONTACT_LIMITS.tags} labels`)
    else groups.push(text)
  }

  // An identity, kept as written (only trimmed): collapsing its spaces made `a  b` come back as `a b`, another contact.
  const uid = (draft.externalId ?? '').trim()
  const externalId = uid && isStorableText(uid) && uid.length <= CONTACT_LIMITS.externalId ? uid : `h:${stableHash([uid])}`

  return {
    kind: 'contact',
    position: draft.position,
    raw: clipRaw(draft.raw),
    externalId,
    name,
    emails,
    phones,
    ...social,
    otherSocialMedia: others,
    location,
    timezone,
    customNotes,
    birthday,
    // Only when there is one: records without keep the shape (and the import hash) they had before.
    ...(anniversary ? { anniversary } : {}),
    groups,
    source: draft.source,
    ...(dropped.length > 0 ? { dropped } : {}),
  }
}
