/**
 * The dedupe keys of a contact (`Contact.matchKeys`, GIN-indexed): `email:<lower case>` for each e-mail,
 * `tel:<E.164>` for each phone (libphonenumber-js). An import finds the contact a card or a row is
 * about by them (imports/contacts/apply-batch.ts); every write of e-mails or phones keeps them. Pure.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'

/** The dedupe key of an e-mail: `email:<lower case>`. */
export function emailKey(email: string): string {
  return `email:${email.trim().toLowerCase()}`
}

/**
 * The dedupe key of a phone: `tel:<E.164>` when libphonenumber-js can tell its country (an international
 * `+` or `00` prefix, or `defaultCountry`), else `tel:<digits>` (a local number without a country).
 * Null when it has fewer than 3 digits.
 */
export function phoneKey(phone: string, defaultCountry?: CountryCode): string | null {
  const compact = phone.replace(/[^\d+]/g, '')
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact
  const parsed = parsePhoneNumberFromString(international, defaultCountry)
  if (parsed?.number) return `tel:${parsed.number}`
  const digits = compact.replace(/\D/g, '')
  return digits.length >= 3 ? `tel:${digits}` : null
}

/** Every dedupe key of a contact's e-mails and phones, without repeats. */
export function matchKeysOf(emails: readonly string[], phones: readonly string[], defaultCountry?: CountryCode): string[] {
  const keys = new Set<string>()
  for (const email of emails) keys.add(emailKey(email))
  for (const phone of phones) {
    const key = phoneKey(phone, defaultCountry)
    if (key) keys.add(key)
  }
  return [...keys]
}

