/**
 * Google Contacts and Outlook CSV exports as contacts, one row at a time.
 *
 * The bytes are decoded as UTF-8 (a BOM is dropped), or as Windows-1252 when the first 64 KiB are not
 * UTF-8 (Outlook writes the ANSI code page). Rows are cut here, aware of quotes (a quoted field may hold
 * line breaks), each at most `maxRecordBytes`, and parsed by csv-parse a block of rows at a time
 * (`relax_column_count`, the delimiter, comma or semicolon, taken from the header line). Why not one
 * csv-parse stream over the file: after a malformed row (`"bad"x`) or one over `max_record_size`, its
 * `skip_records_with_error` recovery lost the rows after it without a word (csv-parse 7.0.3). Here a bad
 * row is Rejected with the line it starts on and the next row is read.
 *
 * The layout (Google or Outlook) is told from the header; a header with more than 1,000 columns, none
 * of either layout, or an empty file is an {@link ImportFormatError}. Memory: one block of rows
 * (at most 64 KiB, or one row of at most `maxRecordBytes`).
 */
import { parse } from 'csv-parse/sync'
import { restoreFormulaText } from '../../exports/google-csv.ts'
import { ImportFormatError } from '../format-error.ts'
import type { ImportedContact, Rejected } from '../types.ts'
import { clipRaw, finishContact, MAX_RAW_CHARS, stableHash, type ContactDraft, type Labeled } from './mapping.ts'

/** Most columns a header may have. */
export const MAX_COLUMNS = 1000
/** A row's largest size by default, in UTF-16 code units (about bytes for Latin text): 256 KiB. */
export const DEFAULT_MAX_ROW_CHARS = 256 * 1024
const SNIFF_BYTES = 64 * 1024
const BLOCK_CHARS = 64 * 1024
const BLOCK_ROWS = 200

/** The two layouts this reads. */
export type CsvLayout = 'google' | 'outlook'

/** A row's text as cut from the stream, with the line it starts on. */
interface RowText {
  text: string
  line: number
  /** Longer than the limit (its text is cut). */
  oversize: boolean
  /** Its quotes do not close, or a closing quote is followed by something other than a delimiter. */
  malformed: boolean
}

/** Decoded text of the byte stream: UTF-8, or Windows-1252 when the first 64 KiB are not UTF-8. */
async function* decodeText(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const head: Uint8Array[] = []
  let headSize = 0
  const iterator = chunks[Symbol.asyncIterator]()
  let ended = false
  while (headSize < SNIFF_BYTES) {
    const next = await iterator.next()
    if (next.done) {
      ended = true
      break
    }
    head.push(next.value)
    headSize += next.value.length
  }
  let encoding = 'utf-8'
  try {
    const probe = new TextDecoder('utf-8', { fatal: true })
    for (const chunk of head) probe.decode(chunk, { stream: true })
    if (ended) probe.decode()
  } catch {
    encoding = 'windows-1252'
  }
  const decoder = new TextDecoder(encoding)
  for (const chunk of head) yield decoder.decode(chunk, { stream: true })
  head.length = 0
  if (!ended) {
    for (;;) {
      const next = await iterator.next()
      if (next.done) break
      yield decoder.decode(next.value, { stream: true })
    }
  }
  const rest = decoder.decode()
  if (rest) yield rest
}

/** Rows of the text, cut at line breaks outside quotes; blank lines skipped. */
async function* rowTexts(text: AsyncIterable<string>, maxChars: number, delimiter: () => string): AsyncGenerator<RowText> {
  let pieces: string[] = []
  let size = 0
  let quoted = false
  let line = 1
  let start = 1
  let oversize = false
  let malformed = false
  /** After a closing quote, only a delimiter, a line break or another quote may follow. */
  let afterQuote = false
  const keep = (piece: string) => {
    if (oversize) return
    if (size + piece.length > maxChars) {
      oversize = true
      pieces.push(piece.slice(0, Math.max(0, MAX_RAW_CHARS - size)))
      return
    }
    pieces.push(piece)
    size += piece.length
  }
  const finish = (): RowText | null => {
    let rowText = pieces.join('')
    if (rowText.endsWith('\r')) rowText = rowText.slice(0, -1)
    const row = rowText.length > 0 || oversize ? { text: rowText, line: start, oversize, malformed: malformed || quoted } : null
    pieces = []
    size = 0
    oversize = false
    malformed = false
    quoted = false
    afterQuote = false
    return row
  }
  for await (const chunk of text) {
    let from = 0
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk.charCodeAt(i)
      if (afterQuote) {
        afterQuote = false
        if (char === 0x22) {
          // `""` inside a quoted field: an escaped quote.
          quoted = true
          continue
        }
        if (char !== 0x0a && char !== 0x0d && chunk[i] !== delimiter()) malformed = true
      }
      if (char === 0x22) {
        if (quoted) {
          quoted = false
          afterQuote = true
        } else {
          // A quote opens a field only at its start; elsewhere it is malformed (csv-parse refuses it).
          const previous = i > from ? chunk[i - 1] : (pieces.at(-1)?.at(-1) ?? '')
          if (previous !== '' && previous !== delimiter() && previous !== '\n') malformed = true
          quoted = true
        }
      } else if (char === 0x0a) {
        line++
        if (!quoted) {
          keep(chunk.slice(from, i))
          from = i + 1
          const row = finish()
          start = line
          if (row) yield row
        }
      }
    }
    keep(chunk.slice(from))
  }
  const row = finish()
  if (row) yield row
}

/** The delimiter of a header line: the more frequent of `,` and `;` outside quotes. */
function detectDelimiter(header: string): string {
  let commas = 0
  let semicolons = 0
  let quoted = false
  for (const char of header) {
    if (char === '"') quoted = !quoted
    else if (!quoted && char === ',') commas++
    else if (!quoted && char === ';') semicolons++
  }
  return semicolons > commas ? ';' : ','
}

/** Which export the header is, or null. */
export function detectLayout(columns: readonly string[]): CsvLayout | null {
  const names = new Set(columns.map((column) => column.trim().toLowerCase()))
  if (names.has('e-mail 1 - value') || names.has('phone 1 - value') || names.has('given name') || names.has('labels') || names.has('group membership')) return 'google'
  if (names.has('e-mail address') || names.has('mobile phone') || names.has('business phone') || names.has('home phone')) return 'outlook'
  return null
}

/** Google joins several values of one cell with ` ::: `. */
function splitMulti(value: string): string[] {
  return value
    .split(':::')
    .map((part) => part.trim())
    .filter(Boolean)
}

/** Google's "Custom Field n - Label/Value" labels this reads (what src/exports/google-csv.ts writes), lower case. */
const CUSTOM_FIELD_TIMEZONE = 'time zone'
const CUSTOM_FIELD_UID = 'uid'

/** The value of the first "Custom Field n" whose label is `label` (any case), or ''. */
function customField(numbered: (prefix: string, suffix: string) => string[][], label: string): string {
  for (const [name = '', value = ''] of numbered('Custom Field', 'Value')) if (name.replace(/^\*\s*/, '').trim().toLowerCase() === label) return value
  return ''
}

/** Google's system labels, dropped: every contact has them. */
const GOOGLE_SYSTEM_LABELS = new Set(['* mycontacts', '* starred', 'mycontacts', 'starred'])

type Row = (name: string) => string

function googleDraft(get: Row, numbered: (prefix: string, suffix: string) => string[][]): Omit<ContactDraft, 'position' | 'raw' | 'source' | 'externalId'> {
  const emails: Labeled[] = []
  for (const [label = '', value = ''] of numbered('E-mail', 'Value')) {
    const star = label.startsWith('*')
    for (const email of splitMulti(value)) emails.push({ value: email, pref: star && emails.length === 0, label: label.replace(/^\*\s*/, '') })
  }
  const phones: Labeled[] = []
  for (const [label = '', value = ''] of numbered('Phone', 'Value')) {
    const star = label.startsWith('*')
    for (const phone of splitMulti(value)) phones.push({ value: phone, pref: star && phones.length === 0, label: label.replace(/^\*\s*/, '') })
  }
  const socials: Labeled[] = []
  for (const [label = '', value = ''] of numbered('Website', 'Value')) for (const url of splitMulti(value)) socials.push({ value: url, label: label.replace(/^\*\s*/, '') })
  let location = ''
  for (let n = 1; n <= 10 && !location; n++) {
    location =
      get(`Address ${n} - Formatted`) ||
      ['Street', 'City', 'Region', 'Postal Code', 'Country']
        .map((part) => get(`Address ${n} - ${part}`))
        .filter(Boolean)
        .join(', ')
  }
  const labels = splitMulti(get('Labels') || get('Group Membership'))
    .filter((label) => !GOOGLE_SYSTEM_LABELS.has(label.toLowerCase()))
    .map((label) => label.replace(/^\*\s*/, ''))
  return {
    formattedName: get('Name'),
    givenName: get('First Name') || get('Given Name'),
    middleName: get('Middle Name') || get('Additional Name'),
    familyName: get('Last Name') || get('Family Name'),
    organization: get('Organization Name') || get('Organization 1 - Name'),
    emails,
    phones,
    socials,
    location: location.replace(/\s*\n\s*/g, ', '),
    note: get('Notes'),
    birthday: get('Birthday'),
    groups: labels,
    // Validated as an IANA zone by finishContact (a bad one is reported as a dropped field).
    timezone: customField(numbered, CUSTOM_FIELD_TIMEZONE) || null,
  }
}

const OUTLOOK_PHONES = ['Primary Phone', 'Mobile Phone', 'Home Phone', 'Business Phone', 'Home Phone 2', 'Business Phone 2', 'Other Phone', 'Car Phone', 'Company Main Phone']

function outlookDraft(get: Row): Omit<ContactDraft, 'position' | 'raw' | 'source' | 'externalId'> {
  const address = (kind: string) =>
    [`${kind} Street`, `${kind} City`, `${kind} State`, `${kind} Postal Code`, `${kind} Country/Region`]
      .map(get)
      .filter(Boolean)
      .join(', ')
  const socials: Labeled[] = []
  for (const column of ['Web Page', 'Personal Web Page']) if (get(column)) socials.push({ value: get(column), label: column === 'Web Page' ? '' : 'personal' })
  // Outlook's "no birthday".
  const birthday = get('Birthday')
  return {
    givenName: get('First Name'),
    middleName: get('Middle Name'),
    familyName: get('Last Name'),
    organization: get('Company'),
    emails: ['E-mail Address', 'E-mail 2 Address', 'E-mail 3 Address'].map((column) => ({ value: get(column) })).filter((email) => email.value),
    phones: OUTLOOK_PHONES.map((column) => ({ value: get(column) })).filter((phone) => phone.value),
    socials,
    location: (address('Home') || address('Business') || address('Other')).replace(/\s*\n\s*/g, ', '),
    note: get('Notes'),
    birthday: /^0?0?\/0?0?\/0*$|^0?1\/0?1\/0001$/.test(birthday) ? '' : birthday,
    groups: get('Categories')
      .split(/;|,/)
      .map((label) => label.trim())
      .filter(Boolean),
  }
}

/** A row's fields as a contact, or why not. */
/**
 * Where each column a layout reads sits in a header, worked out once per file: a row is then read
 * by index (no name built or lower-cased per row).
 */
class HeaderPlan {
  private readonly index: Map<string, number>
  private readonly cache = new Map<string, number>()
  private readonly series = new Map<string, [label: number, value: number][]>()
  constructor(readonly columns: readonly string[]) {
    this.index = new Map(columns.map((column, i) => [column.trim().toLowerCase(), i] as const).reverse())
  }
  /** The column of `name` (any case), or -1. */
  at(name: string): number {
    let at = this.cache.get(name)
    if (at === undefined) {
      at = this.index.get(name.toLowerCase()) ?? -1
      this.cache.set(name, at)
    }
    return at
  }
  /** The (label, value) columns of `E-mail 1 - Value`, `E-mail 2 - Value`... (`- Label` or `- Type`). */
  numbered(prefix: string, suffix: string): [label: number, value: number][] {
    const key = `${prefix}\u0000${suffix}`
    let pairs = this.series.get(key)
    if (!pairs) {
      pairs = []
      for (let n = 1; n <= 50; n++) {
        const value = this.at(`${prefix} ${n} - ${suffix}`)
        if (value === -1) break
        const label = this.at(`${prefix} ${n} - Label`)
        pairs.push([label === -1 ? this.at(`${prefix} ${n} - Type`) : label, value])
      }
      this.series.set(key, pairs)
    }
    return pairs
  }
}

/** A row's fields as a contact, or why not. */
function contactOfRow(fields: string[], plan: HeaderPlan, layout: CsvLayout, row: RowText): ImportedContact | Rejected {
  const cell = (at: number) => (at === -1 ? '' : (fields[at] ?? '').trim())
  const get: Row = (name) => cell(plan.at(name))
  const numbered = (prefix: string, suffix: string) => {
    const out: string[][] = []
    for (const [label, value] of plan.numbered(prefix, suffix)) {
      const text = cell(value)
      if (text) out.push([cell(label), text])
    }
    return out
  }
  // A `UID` column, or a "Custom Field n" labelled `UID` (what this app's own CSV export writes).
  const uid = get('UID') || (layout === 'google' ? customField(numbered, CUSTOM_FIELD_UID) : '')
  const pairs: string[] = []
  if (!uid) {
    for (let i = 0; i < plan.columns.length; i++) {
      const value = (fields[i] ?? '').trim()
      if (value) pairs.push(plan.columns[i]!.trim(), value)
    }
  }
  const identity = uid || `csv:${stableHash(pairs)}`
  const base = layout === 'google' ? googleDraft(get, numbered) : outlookDraft(get)
  return finishContact({ ...base, position: row.line, raw: row.text, source: 'CSV', externalId: identity })
}

/**
 * The rows of a Google Contacts or Outlook CSV export, each an {@link ImportedContact} or a
 * {@link Rejected} (position: the line the row starts on; the header is line 1).
 *
 * @param layout `google` / `outlook` to force one; by default told from the header.
 * @param options.maxRecordBytes largest row (default 256 KiB, counted in characters).
 * @throws ImportFormatError (BAD_USER_INPUT) for an empty file, a header over 1,000 columns or the
 *   record size, or a header of neither layout.
 */
export async function* readCsvContacts(
  chunks: AsyncIterable<Uint8Array>,
  layout: CsvLayout | null = null,
  options: { maxRecordBytes?: number } = {},
): AsyncGenerator<ImportedContact | Rejected> {
  const maxChars = options.maxRecordBytes ?? DEFAULT_MAX_ROW_CHARS
  let delimiter = ','
  let columns: string[] | null = null
  let plan: HeaderPlan | null = null
  let chosen: CsvLayout | null = layout
  let block: RowText[] = []
  let blockChars = 0

  const readHeader = (row: RowText) => {
    if (row.oversize) throw new ImportFormatError(`the CSV header line is longer than ${maxChars} characters`)
    delimiter = detectDelimiter(row.text)
    let parsed: string[][]
    try {
      parsed = parse(row.text, { delimiter, relax_column_count: true, bom: true }) as string[][]
    } catch (error) {
      throw new ImportFormatError(`the CSV header cannot be read: ${error instanceof Error ? error.message.slice(0, 200) : 'malformed'}`)
    }
    const header = parsed[0] ?? []
    if (header.length > MAX_COLUMNS) throw new ImportFormatError(`the CSV has ${header.length} columns; at most ${MAX_COLUMNS}`, { columns: header.length, max: MAX_COLUMNS })
    chosen ??= detectLayout(header)
    if (!chosen) throw new ImportFormatError('the CSV header is neither a Google Contacts nor an Outlook export (no "E-mail 1 - Value", "E-mail Address", ... column)')
    columns = header
    plan = new HeaderPlan(header)
  }

  const reject = (row: RowText, reason: string): Rejected => ({ kind: 'rejected', position: row.line, raw: clipRaw(row.text), reason })

  function* parseRows(rows: RowText[]): Generator<ImportedContact | Rejected> {
    let records: string[][] | null = null
    if (rows.length > 1) {
      try {
        records = parse(rows.map((row) => row.text).join('\n'), { delimiter, relax_column_count: true }) as string[][]
      } catch {
        records = null
      }
      if (records && records.length !== rows.length) records = null
    }
    for (const [i, row] of rows.entries()) {
      let fields = records?.[i]
      if (!fields) {
        try {
          const one = parse(row.text, { delimiter, relax_column_count: true }) as string[][]
          if (one.length !== 1) {
            yield reject(row, 'a malformed row')
            continue
          }
          fields = one[0]!
        } catch (error) {
          yield reject(row, `a malformed row: ${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'}`)
          continue
        }
      }
      if (fields.length > MAX_COLUMNS) {
        yield reject(row, `more than ${MAX_COLUMNS} fields`)
        continue
      }
      // Our CSV export writes a formula-like cell as text with a leading `'` (exports/google-csv.ts): read it back without.
      fields = fields.map(restoreFormulaText)
      if (fields.some((field) => field.includes('\uFFFD'))) {
        yield reject(row, 'invalid UTF-8 (or a U+FFFD replacement character)')
        continue
      }
      try {
        yield contactOfRow(fields, plan!, chosen!, row)
      } catch (error) {
        yield reject(row, `a malformed row: ${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'}`)
      }
    }
  }

  for await (const row of rowTexts(decodeText(chunks), maxChars, () => delimiter)) {
    if (!columns) {
      readHeader(row)
      continue
    }
    if (row.oversize || row.malformed) {
      yield* parseRows(block)
      block = []
      blockChars = 0
      yield reject(row, row.oversize ? `a row longer than ${maxChars} characters (or a quote that never closes)` : 'a malformed row: a quote that does not close, or text after a closing quote')
      continue
    }
    block.push(row)
    blockChars += row.text.length
    if (block.length >= BLOCK_ROWS || blockChars >= BLOCK_CHARS) {
      yield* parseRows(block)
      block = []
      blockChars = 0
    }
  }
  yield* parseRows(block)
  if (!columns) throw new ImportFormatError('empty file')
}
