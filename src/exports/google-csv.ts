/**
 * Contacts as CSV in the Google Contacts layout, so that the file re-imports as Google CSV
 * (here and into Google Contacts): the header names are Google's export's ("Name", "Given Name",
 * "Family Name", "Birthday", "Notes", "Labels", "E-mail n - Label/Value", "Phone n - Label/Value",
 * "Address 1 - Label/Formatted", "Website n - Label/Value", "Custom Field n - Label/Value"),
 * multiple labels joined with " ::: " as Google does. RFC 4180 quoting (checked against
 * csv-stringify), CRLF rows. Pure: no database, no clock.
 */
import { categoriesOf, emailsOf, otherProfilesOf, phonesOf, SOCIAL_PROFILE_TYPES, type ExportContact } from './vcard.ts'
import { cleanText } from './content-lines.ts'

/** Google's separator of several values in one cell. */
export const GOOGLE_MULTI_SEPARATOR = ' ::: '
/** "Custom Field" labels of the fields Google has no column for. */
export const CUSTOM_FIELD_LABELS = { timezone: 'Time Zone', externalId: 'UID' } as const

/** How many numbered columns of each kind a file has (at least 1 each, so the layout is always recognisable). */
export interface CsvColumnCounts {
  emails: number
  phones: number
  /** Websites: linkedIn, instagram, xHandle and the otherSocialMedia entries. */
  websites: number
}

/** The most numbered columns of one kind a file gets; a contact with more has the rest joined into the last. */
export const MAX_NUMBERED_COLUMNS = 50

const clampCount = (count: number) => Math.min(MAX_NUMBERED_COLUMNS, Math.max(1, Math.floor(count)))

const numbered = (kind: string, count: number) => Array.from({ length: count }, (_, i) => [`${kind} ${i + 1} - Label`, `${kind} ${i + 1} - Value`]).flat()

/** The header row's cells for `counts`. */
export function googleCsvHeader(counts: CsvColumnCounts): string[] {
  return [
    'Name',
    'Given Name',
    'Family Name',
    'Birthday',
    'Notes',
    'Labels',
    ...numbered('E-mail', clampCount(counts.emails)),
    ...numbered('Phone', clampCount(counts.phones)),
    'Address 1 - Label',
    'Address 1 - Formatted',
    ...numbered('Website', clampCount(counts.websites)),
    'Custom Field 1 - Label',
    'Custom Field 1 - Value',
    'Custom Field 2 - Label',
    'Custom Field 2 - Value',
  ]
}

/** `values` in `count` cells: one each, the overflow joined into the last with " ::: ", the rest empty. */
function spread<T>(values: T[], count: number, empty: T, join: (rest: T[]) => T): T[] {
  const cells = values.slice(0, count)
  if (values.length > count) cells[count - 1] = join(values.slice(count - 1))
  while (cells.length < count) cells.push(empty)
  return cells
}

/** The website entries of a contact: `[label, value]`, the three named profiles first. */
export function websitesOf(contact: ExportContact): [string, string][] {
  const named = (Object.entries(SOCIAL_PROFILE_TYPES) as [keyof typeof SOCIAL_PROFILE_TYPES, string][])
    .filter(([field]) => contact[field])
    .map(([field, label]): [string, string] => [label, contact[field]!])
  return [...named, ...otherProfilesOf(contact.otherSocialMedia)]
}

/** "Given Name" / "Family Name": the name split at its first space (the "Name" column keeps it whole). */
export function splitName(name: string): [string, string] {
  const at = name.indexOf(' ')
  return at < 0 ? [name, ''] : [name.slice(0, at), name.slice(at + 1)]
}

/**
 * One contact's cells, in {@link googleCsvHeader}'s order. E-mail and phone labels are "Other"
 * (their order says which is primary: the first); Address 1 is labelled "Other" with the location;
 * website labels are `linkedin`, `instagram`, `x` or the otherSocialMedia label; Custom Field 1 is
 * "Time Zone", Custom Field 2 "UID" (externalId ?? id).
 */
export function contactToCsvCells(contact: ExportContact, groupNames: ReadonlyMap<string, string>, counts: CsvColumnCounts): string[] {
  const pairs = (values: string[], count: number) =>
    spread<[string, string]>(
      values.map((value): [string, string] => ['Other', value]),
      clampCount(count),
      ['', ''],
      (rest) => ['Other', rest.map(([, value]) => value).join(GOOGLE_MULTI_SEPARATOR)],
    ).flat()
  const websites = spread<[string, string]>(websitesOf(contact), clampCount(counts.websites), ['', ''], (rest) => [
    rest.map(([label]) => label).join(GOOGLE_MULTI_SEPARATOR),
    rest.map(([, value]) => value).join(GOOGLE_MULTI_SEPARATOR),
  ]).flat()
  const [given, family] = splitName(contact.name)
  const cells = [
    contact.name,
    given,
    family,
    contact.birthday ?? '',
    contact.customNotes ?? '',
    categoriesOf(contact, groupNames).join(GOOGLE_MULTI_SEPARATOR),
    ...pairs(emailsOf(contact), counts.emails),
    ...pairs(phonesOf(contact), counts.phones),
    contact.location ? 'Other' : '',
    contact.location ?? '',
    ...websites,
    contact.timezone ? CUSTOM_FIELD_LABELS.timezone : '',
    contact.timezone ?? '',
    CUSTOM_FIELD_LABELS.externalId,
    contact.externalId ?? contact.id,
  ]
  return cells.map((cell) => neutralizeFormula(cleanText(cell)))
}

/** What a phone number looks like: a sign, then digits and separators. Such a cell is left as it is. */
const PHONE_LIKE = /^[+-][\d\s()./:-]*$/

/**
 * A cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd|...`: CSV injection,
 * OWASP) gets a leading `'`, which spreadsheets show as text; a phone number (`+49 30 1234567`) does not.
 * Cells that already start with `'` before such a text get one more, so that {@link restoreFormulaText}
 * gives back every cell exactly: our own export round-trips.
 */
export function neutralizeFormula(cell: string): string {
  return /^'*[=@\t\r]/.test(cell) || (/^'*[+-]/.test(cell) && !PHONE_LIKE.test(cell)) ? `'${cell}` : cell
}

/** The cell {@link neutralizeFormula} was given: one leading `'` fewer before a formula-like text. */
export function restoreFormulaText(cell: string): string {
  return /^'+[=@\t\r+-]/.test(cell) ? cell.slice(1) : cell
}

/** A cell as RFC 4180 writes it: quoted when it holds `"`, `,`, CR or LF, with `""` for `"`. */
const csvCell = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)

/**
 * Rows as CSV text (RFC 4180: quoted when needed, `""` inside quotes, CRLF after each row): the
 * bytes csv-stringify writes with {@link CSV_STRINGIFY_OPTIONS} (the tests check it), at about a
 * tenth of its time (13 µs a row through csv-stringify: 13 s of a million-contact export).
 */
export function csvRows(rows: string[][]): string {
  let text = ''
  for (const row of rows) text += `${row.map(csvCell).join(',')}\r\n`
  return text
}

/** csv-stringify's options for the same output (it quotes a cell holding CRLF, not a bare LF, unless told). */
export const CSV_STRINGIFY_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const
