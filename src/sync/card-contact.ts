/**
 * A synced card as a contact's columns (issue 15), with the import's mapping (imports/contacts: `draftOfCard`
 * then `finishContact`), so a card synced and the same card imported from a file give the same contact.
 * The columns a card owns ({@link CardColumns}) are the ones a sync writes; the user's own (circle,
 * frequency, notes after creation, tags, groups, interactions) are never among them.
 */
import type { CountryCode } from 'libphonenumber-js'
import { matchKeysOf } from '../contacts/match-keys.ts'
import { clipRaw, finishContact, stableHash } from '../imports/contacts/mapping.ts'
import { draftOfCard } from '../imports/contacts/vcard-reader.ts'
import type { ImportedContact, Rejected } from '../imports/types.ts'
import { CardError, parseCard } from './card-fields.ts'

/** The Content-Type of a card written back (RFC 6350 10.1; vCard 3.0 servers take it too). */
export const VCARD_CONTENT_TYPE = 'text/vcard; charset=utf-8'

/**
 * The contact of a card's text (as the server gave it), or why the mapping rejects it (no name, e-mail or
 * phone; a name over 200 characters; a card ical.js cannot read). `position`: its number in the sync, for logs.
 */
export function mapCard(data: string, position: number): ImportedContact | Rejected {
  try {
    const component = parseCard(data)
    return finishContact(draftOfCard(component, position, clipRaw(data), () => stableHash([data])))
  } catch (error) {
    const reason = error instanceof CardError || error instanceof Error ? error.message.slice(0, 200) : 'unreadable card'
    return { kind: 'rejected', position, raw: clipRaw(data), reason }
  }
}

/** The columns of a contact that its card owns: a sync writes these, and only these, when the card changes. */
export interface CardColumns {
  name: string
  email: string | null
  phone: string | null
  emails: string[]
  phones: string[]
  matchKeys: string[]
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  otherSocialMedia: Record<string, string> | null
  location: string | null
  timezone: string | null
  birthday: string | null
  anniversary: string | null
}

/**
 * Every {@link CardColumns} column with its PostgreSQL type: the one list of the columns a card owns. The
 * sync's SQL (contacts-sync.ts: its SELECT, INSERT and UPDATE column lists and its `jsonb_to_recordset`
 * record) is built from it; the compiler holds its keys to CardColumns'.
 */
export const CARD_COLUMN_TYPES = {
  name: 'text',
  email: 'text',
  phone: 'text',
  emails: 'text[]',
  phones: 'text[]',
  matchKeys: 'text[]',
  linkedIn: 'text',
  instagram: 'text',
  xHandle: 'text',
  otherSocialMedia: 'jsonb',
  location: 'text',
  timezone: 'text',
  birthday: 'text',
  anniversary: 'text',
} as const satisfies { [K in keyof CardColumns]: string }

/** The {@link CardColumns} of a mapped card: its e-mails and phones replace the contact's (the first is primary); `defaultCountry` for the match keys of numbers without one. */
export function cardColumns(contact: ImportedContact, defaultCountry?: CountryCode): CardColumns {
  return {
    name: contact.name,
    email: contact.emails[0] ?? null,
    phone: contact.phones[0] ?? null,
    emails: contact.emails,
    phones: contact.phones,
    matchKeys: matchKeysOf(contact.emails, contact.phones, defaultCountry),
    linkedIn: contact.linkedIn,
    instagram: contact.instagram,
    xHandle: contact.xHandle,
    otherSocialMedia: contact.otherSocialMedia,
    location: contact.location,
    timezone: contact.timezone,
    birthday: contact.birthday,
    anniversary: contact.anniversary ?? null,
  }
}

/** JSON with object keys sorted (jsonb gives an object's keys back in its own order). */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  )
}

/** Whether writing `next` would change any of `current`'s card columns. */
export function cardColumnsDiffer(current: { [K in keyof CardColumns]: unknown }, next: CardColumns): boolean {
  return (Object.keys(next) as (keyof CardColumns)[]).some((key) => canonical(current[key]) !== canonical(next[key]))
}

/** The absolute URL of an href (an absolute path, as the server wrote it) on the collection's server. */
export function hrefUrl(collectionUrl: string, href: string): string {
  return new URL(href, collectionUrl).href
}

/** The path prefix of the collection's members: the hrefs of its cards start with it. */
export function collectionPrefix(collectionUrl: string): string {
  const path = new URL(collectionUrl).pathname
  return path.endsWith('/') ? path : `${path}/`
}
