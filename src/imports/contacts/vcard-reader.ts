/**
 * vCard 2.1 / 3.0 / 4.0 files (many cards) as contacts, one card at a time: the bytes are cut into lines
 * (lines.ts), lines unfolded (a leading space or tab continues the line; a quoted-printable value ending
 * in `=` continues on the next line), values decoded (`ENCODING=QUOTED-PRINTABLE` / `BASE64`, `CHARSET=`
 * through TextDecoder), embedded PHOTO / LOGO / SOUND / KEY dropped as they stream, and each card then
 * parsed by ical.js (`ICAL.parse`, `ICAL.Component`) and mapped (mapping.ts).
 *
 * Memory: one card (at most `maxRecordBytes`, skipped photos not counted) and one line (at most 1 MiB).
 * A card over either limit, with bytes that are not in its charset, or that ical.js cannot parse is
 * Rejected with its number, and the next card is read. A file without `BEGIN:VCARD` in its first
 * 64 KiB (an empty file too) is an {@link ImportFormatError}.
 */
import ICAL from 'ical.js'
import { ImportFormatError } from '../format-error.ts'
import type { ImportedContact, Rejected } from '../types.ts'
import { LineSplitter, type PhysicalLine } from './lines.ts'
import { clipRaw, finishContact, MAX_RAW_CHARS, stableHash, type ContactDraft, type Labeled } from './mapping.ts'

/** A card's largest size by default (its kept lines, decoded): 256 KiB. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024
/** A line's largest size: past it the line is cut and its card rejected (a skipped photo is only dropped). */
export const MAX_LINE_BYTES = 1024 * 1024
/** How far into the file `BEGIN:VCARD` must appear. */
export const SNIFF_BYTES = 64 * 1024

/** Binary properties: never stored, dropped while they stream. */
const SKIPPED = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY'])

const COLON = 0x3a
const SEMICOLON = 0x3b
const QUOTE = 0x22
const latin1 = new TextDecoder('latin1')

/** The index of the first `:` outside double quotes (the end of name and parameters), or -1. */
function headerEnd(bytes: Uint8Array): number {
  let quoted = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]
    if (byte === QUOTE) quoted = !quoted
    else if (byte === COLON && !quoted) return i
  }
  return -1
}

/** `item1.EMAIL;TYPE=work` -> `EMAIL` (upper case). */
function propertyName(header: string): string {
  const end = header.indexOf(';')
  const name = end === -1 ? header : header.slice(0, end)
  return name.slice(name.lastIndexOf('.') + 1).trim().toUpperCase()
}

function isQuotedPrintable(header: string): boolean {
  return /;\s*(ENCODING\s*=\s*)?"?QUOTED-PRINTABLE"?\s*(;|$)/i.test(header)
}

/** A header's bytes as text (ASCII in every export; other bytes become Latin-1 characters). */
function asciiHeader(bytes: Uint8Array): string {
  if (bytes.length > 64) return latin1.decode(bytes)
  let text = ''
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!)
  return text
}

/** `BEGIN:VCARD` or `END:VCARD`: never the continuation of a quoted-printable value (a stray `=` must not swallow the next card). */
function isCardBoundary(bytes: Uint8Array): boolean {
  const first = bytes[0]
  if (bytes.length > 20 || (first !== 0x42 && first !== 0x62 && first !== 0x45 && first !== 0x65)) return false
  return /^\s*(BEGIN|END):VCARD\s*$/i.test(asciiHeader(bytes))
}

/** One unfolded line, as bytes, with where it started. */
interface LogicalLine {
  bytes: Uint8Array
  /** A physical line of it was over the line cap. */
  cut: boolean
  number: number
  offset: number
}

/**
 * Unfolds physical lines, pushed one at a time: each push gives back the logical line it completed,
 * if any (at most one); `end` gives the last. Skipped (binary) properties are dropped without being held.
 */
function unfolder(maxLineBytes: number): { push(physical: PhysicalLine): LogicalLine | null; end(): LogicalLine | null } {
  let parts: Uint8Array[] = []
  let size = 0
  let cut = false
  let skip = false
  let qp = false
  let start: PhysicalLine | null = null
  const flush = (): LogicalLine | null => {
    if (!start || skip) {
      start = null
      return null
    }
    const bytes = parts.length === 1 ? parts[0]! : new Uint8Array(size)
    if (parts.length !== 1) {
      let at = 0
      for (const part of parts) {
        bytes.set(part, at)
        at += part.length
      }
    }
    const line = { bytes, cut, number: start.number, offset: start.offset }
    start = null
    return line
  }
  const append = (piece: Uint8Array) => {
    if (skip) return
    const room = maxLineBytes - size
    if (piece.length > room) cut = true
    const part = piece.length > room ? piece.subarray(0, Math.max(0, room)) : piece
    if (part.length === 0) return
    // Copied: the piece is a view of an upload chunk, and a card keeps its lines until it ends.
    parts.push(part.slice())
    size += part.length
  }
  const push = (physical: PhysicalLine): LogicalLine | null => {
    // A UTF-8 byte order mark before the first BEGIN:VCARD (Windows tools write one).
    const bom = physical.number === 1 && physical.bytes[0] === 0xef && physical.bytes[1] === 0xbb && physical.bytes[2] === 0xbf
    const line = bom ? { ...physical, bytes: physical.bytes.subarray(3) } : physical
    const first = line.bytes[0]
    const lastKept = parts.length > 0 ? parts[parts.length - 1]! : null
    if (start && qp && lastKept && lastKept[lastKept.length - 1] === 0x3d && !cut && !isCardBoundary(line.bytes)) {
      // A quoted-printable soft line break: drop the `=`, the next line continues the value as it is.
      parts[parts.length - 1] = lastKept.subarray(0, lastKept.length - 1)
      size -= 1
      append(line.bytes)
      cut ||= line.cut
      return null
    }
    if (start && (first === 0x20 || first === 0x09)) {
      append(line.bytes.subarray(1))
      cut ||= line.cut
      return null
    }
    const done = flush()
    if (line.bytes.length === 0 && !line.cut) return done
    start = line
    parts = []
    size = 0
    cut = line.cut
    const end = headerEnd(line.bytes)
    const header = asciiHeader(end === -1 ? line.bytes.subarray(0, 1000) : line.bytes.subarray(0, end))
    skip = SKIPPED.has(propertyName(header))
    qp = header.includes(';') && isQuotedPrintable(header)
    append(line.bytes)
    cut = line.cut
    return done
  }
  return { push, end: flush }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  return -1
}

/** Quoted-printable to bytes (`=XX`; a stray `=` stays as it is). */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  let n = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    if (byte === 0x3d && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1]!)
      const low = hexValue(bytes[i + 2]!)
      if (high >= 0 && low >= 0) {
        out[n++] = high * 16 + low
        i += 2
        continue
      }
    }
    if (byte === 0x3d && i === bytes.length - 1) continue
    out[n++] = byte
  }
  return out.subarray(0, n)
}

/** Splits `a;b="x;y";c` on semicolons outside quotes. */
function splitParams(header: string): string[] {
  const out: string[] = []
  let quoted = false
  let from = 0
  for (let i = 0; i < header.length; i++) {
    const char = header.charCodeAt(i)
    if (char === QUOTE) quoted = !quoted
    else if (char === SEMICOLON && !quoted) {
      out.push(header.slice(from, i))
      from = i + 1
    }
  }
  out.push(header.slice(from))
  return out
}

type Decoded = { ok: true; text: string; name: string } | { ok: false; field: string; reason: string }

/** Fatal decoders by charset label (a TextDecoder costs more to make than to use); null: unknown label. */
const decoders = new Map<string, TextDecoder | null>()
function decoderFor(charset: string): TextDecoder | null {
  const label = charset.toLowerCase()
  let decoder = decoders.get(label)
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label, { fatal: true })
    } catch {
      decoder = null
    }
    if (decoders.size < 100) decoders.set(label, decoder)
  }
  return decoder
}
const utf8 = decoderFor('utf-8')!

/** A header that needs the byte path: a charset, an encoding, or vCard 2.1's bare parameters. */
const NEEDS_REWRITE = /;\s*(CHARSET|ENCODING)\s*=|;[^=;]*(;|$)/i

/** The index of the first `:` outside double quotes in text, or -1. */
function textHeaderEnd(text: string): number {
  const colon = text.indexOf(':')
  const quote = text.indexOf('"')
  if (quote === -1 || colon < quote) return colon
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (char === QUOTE) quoted = !quoted
    else if (char === COLON && !quoted) return i
  }
  return -1
}

/**
 * One unfolded line as text ical.js reads: encodings decoded, `CHARSET` applied (UTF-8 when none),
 * vCard 2.1's bare parameters (`TEL;CELL:`) as `TYPE=`, line breaks in a decoded value escaped.
 */
function decodeLine(bytes: Uint8Array): Decoded {
  // The common line: UTF-8, no charset, encoding or bare parameter: as it is.
  let whole: string | null = null
  try {
    whole = utf8.decode(bytes)
  } catch {
    whole = null
  }
  if (whole !== null) {
    const at = textHeaderEnd(whole)
    if (at !== -1) {
      const header = whole.slice(0, at)
      if (!header.includes(';') || !NEEDS_REWRITE.test(header)) return { ok: true, name: propertyName(header), text: whole }
    }
  }
  const end = headerEnd(bytes)
  if (end === -1) {
    const text = latin1.decode(bytes.subarray(0, 200))
    return { ok: false, field: propertyName(text) || 'line', reason: 'a line without ":" (not a property)' }
  }
  const header = latin1.decode(bytes.subarray(0, end))
  const [nameWithGroup = '', ...params] = splitParams(header)
  const name = propertyName(nameWithGroup)
  let charset = 'utf-8'
  let encoding: string | null = null
  const kept: string[] = []
  let rewritten = false
  for (const param of params) {
    const eq = param.indexOf('=')
    const key = (eq === -1 ? '' : param.slice(0, eq)).trim().toUpperCase()
    const value = (eq === -1 ? param : param.slice(eq + 1)).trim().replace(/^"(.*)"$/, '$1')
    if (key === 'CHARSET') {
      charset = value
      rewritten = true
    } else if (key === 'ENCODING' || (key === '' && /^(QUOTED-PRINTABLE|BASE64|B|8BIT|7BIT)$/i.test(value))) {
      encoding = value.toUpperCase()
      rewritten = true
    } else if (key === '') {
      if (value) kept.push(`TYPE=${value}`)
      rewritten = true
    } else kept.push(param)
  }
  let valueBytes = bytes.subarray(end + 1)
  if (encoding === 'QUOTED-PRINTABLE') valueBytes = decodeQuotedPrintable(valueBytes)
  else if (encoding === 'BASE64' || encoding === 'B') valueBytes = Buffer.from(latin1.decode(valueBytes), 'base64')
  const decoder = decoderFor(charset)
  if (!decoder) return { ok: false, field: name, reason: `unknown charset ${charset.slice(0, 40)}` }
  let value: string
  try {
    value = decoder.decode(valueBytes)
  } catch {
    return { ok: false, field: name, reason: `invalid ${decoder.encoding === 'utf-8' ? 'UTF-8' : charset.slice(0, 40)} bytes` }
  }
  if (!rewritten) return { ok: true, name, text: `${header}:${value}` }
  if (encoding) value = value.replace(/\r\n|\r|\n/g, '\\n')
  return { ok: true, name, text: [nameWithGroup, ...kept].join(';') + ':' + value }
}

/** A card being read: its lines (text), size, number and the first reason to reject it. */
interface CardState {
  number: number
  lines: string[]
  size: number
  raw: string
  fault: { field?: string; reason: string } | null
}

function appendRaw(card: CardState, text: string): void {
  if (card.raw.length < MAX_RAW_CHARS) card.raw += (card.raw ? '\n' : '') + text.slice(0, MAX_RAW_CHARS)
}

function params(property: ICAL.Property): { types: string[]; pref: boolean; label?: string } {
  const type = property.getParameter('type')
  const types = (Array.isArray(type) ? type : type ? [type] : []).flatMap((t) => String(t).split(',')).map((t) => t.trim())
  const pref = types.some((t) => t.toLowerCase() === 'pref') || property.getParameter('pref') !== undefined
  const label = types.find((t) => !/^(pref|internet|x400|home|work|other|cell|voice|fax|pager|text|main|iphone|msg|video|bbs|modem|car|isdn|pcs)$/i.test(t))
  return { types, pref, label }
}

/** A property's value as text (jCal's form: `--04-15`, `+01:00`), the first of a multi-valued one. */
function textOf(property: ICAL.Property): string {
  const json = property.toJSON() as unknown[]
  const value = json[3]
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map((part) => (Array.isArray(part) ? part.join(',') : String(part ?? ''))).join(' ')
  return value === undefined || value === null ? '' : String(value)
}

/** ical.js unescapes `\\;` only in structured values (N, ADR): free text (FN, NOTE) keeps it. */
function unescapeSemicolons(text: string): string {
  return text.includes('\\;') ? text.replace(/\\;/g, ';') : text
}

/** The other properties a card is read for. */
const WANTED = new Set(['uid', 'fn', 'n', 'org', 'x-twitter', 'x-instagram', 'x-linkedin', 'adr', 'tz', 'note', 'categories', 'bday', 'anniversary', 'x-anniversary'])

function labeledValue(value: string, pref: boolean, label: string | undefined): Labeled {
  return label ? { value, pref, label } : { value, pref }
}

/** The draft of a parsed card (ical.js component). */
export function draftOfCard(component: ICAL.Component, number: number, raw: string, identity: () => string): ContactDraft {
  const draft: ContactDraft = { position: number, raw, source: 'VCARD', externalId: '', emails: [], phones: [], socials: [], groups: [] }
  const labels = new Map<string, string>()
  const properties = component.getAllProperties()
  for (const property of properties) {
    const group = property.getParameter('group')
    if (property.name === 'x-ablabel' && typeof group === 'string') labels.set(group, textOf(property))
  }
  let adrPref = false
  for (const property of properties) {
    const group = property.getParameter('group')
    const name = property.name
    if (name !== 'email' && name !== 'tel' && name !== 'url' && name !== 'x-socialprofile' && name !== 'impp' && !WANTED.has(name)) continue
    const { pref, label } = params(property)
    const groupLabel = typeof group === 'string' ? labels.get(group) : undefined
    const tag = groupLabel ?? label
    switch (name) {
      case 'uid':
        draft.externalId = textOf(property)
        break
      case 'fn':
        draft.formattedName ??= unescapeSemicolons(textOf(property))
        break
      case 'n': {
        const value = property.getFirstValue()
        const parts = Array.isArray(value) ? value.map((part) => (Array.isArray(part) ? part.join(' ') : String(part ?? ''))) : [String(value ?? '')]
        draft.familyName ??= parts[0] ?? null
        draft.givenName ??= parts[1] ?? null
        draft.middleName ??= parts[2] ?? null
        break
      }
      case 'org':
        draft.organization ??= textOf(property).split(';')[0] ?? null
        break
      case 'email':
        draft.emails.push(labeledValue(textOf(property).replace(/^mailto:/i, ''), pref, tag))
        break
      case 'tel':
        draft.phones.push(labeledValue(textOf(property).replace(/^tel:/i, ''), pref, tag))
        break
      case 'url':
      case 'x-socialprofile':
      case 'impp':
        // Google escapes the colon of a URL (`https\\://`), as text.
        draft.socials.push(labeledValue(textOf(property).replace(/\\([:,;\\])/g, '$1'), pref, tag))
        break
      case 'x-twitter':
      case 'x-instagram':
      case 'x-linkedin': {
        const value = textOf(property)
        draft.socials.push({ value, label: property.name.slice(2) })
        break
      }
      case 'adr': {
        if (draft.location && (adrPref || !pref)) break
        adrPref = pref
        const labelParam = property.getParameter('label')
        const value = property.getFirstValue()
        const parts = Array.isArray(value) ? value.map((part) => (Array.isArray(part) ? part.join(' ') : String(part ?? ''))) : [String(value ?? '')]
        // post office box, extended, street, locality, region, postal code, country
        const formatted = typeof labelParam === 'string' && labelParam.trim() ? labelParam : parts.map((part) => part.trim()).filter(Boolean).join(', ')
        draft.location = formatted.replace(/\s*\n\s*/g, ', ')
        break
      }
      case 'tz':
        draft.timezone ??= textOf(property)
        break
      case 'note':
        draft.note ??= unescapeSemicolons(property.getValues().map(String).join(','))
        break
      case 'categories':
        for (const value of property.getValues()) {
          // Google's system groups are on every card it exports.
          draft.groups.push(...String(value).split(',').filter((label) => !/^(\*\s*)?(mycontacts|starred)$/i.test(label.trim())))
        }
        break
      case 'anniversary':
      case 'x-anniversary':
        draft.anniversary ??= textOf(property)
        break
      case 'bday': {
        draft.birthday ??= textOf(property)
        const omit = property.getParameter('x-apple-omit-year')
        if (typeof omit === 'string') draft.birthdayOmitYear = omit
        break
      }
    }
  }
  if (!draft.externalId) draft.externalId = `h:${identity()}`
  return draft
}

/** The contact of a complete card's lines, or why it is rejected. */
function finishCard(card: CardState): ImportedContact | Rejected {
  if (!card.fault) card.raw = clipRaw(['BEGIN:VCARD', ...card.lines, 'END:VCARD'].join('\n'))
  const reject = (reason: string, field?: string): Rejected => ({ kind: 'rejected', position: card.number, raw: clipRaw(card.raw), reason, ...(field ? { field } : {}) })
  if (card.fault) return reject(card.fault.reason, card.fault.field)
  const identity = () => stableHash(card.lines.filter((line) => !/^(REV|PRODID)[;:]/i.test(line)))
  let component: ICAL.Component
  try {
    const parsed = ICAL.parse(['BEGIN:VCARD', ...card.lines, 'END:VCARD', ''].join('\r\n')) as unknown
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return reject('malformed card')
    component = new ICAL.Component(parsed as [string, unknown[], unknown[]])
  } catch (error) {
    return reject(`malformed card: ${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'}`)
  }
  try {
    return finishContact(draftOfCard(component, card.number, card.raw, identity))
  } catch (error) {
    return reject(`malformed card: ${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'}`)
  }
}

/**
 * The cards of a vCard file, each an {@link ImportedContact} or a {@link Rejected} (1-based card number).
 *
 * @param chunks the file's bytes, in any chunking.
 * @param options.maxRecordBytes largest card in bytes (default 256 KiB; skipped photos do not count).
 * @throws ImportFormatError (BAD_USER_INPUT) when the file is empty or has no `BEGIN:VCARD` in its first 64 KiB.
 */
export async function* readVCardContacts(
  chunks: AsyncIterable<Uint8Array>,
  options: { maxRecordBytes?: number; maxLineBytes?: number } = {},
): AsyncGenerator<ImportedContact | Rejected> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES
  let card: CardState | null = null
  let cards = 0
  let bytesSeen = 0
  const splitter = new LineSplitter(maxLineBytes)
  const unfold = unfolder(maxLineBytes)
  /** The record a logical line completes (a card at its END:VCARD), if any. */
  const handle = (line: LogicalLine): ImportedContact | Rejected | null => {
    bytesSeen = line.offset + line.bytes.length
    if (cards === 0 && line.offset >= SNIFF_BYTES) throw new ImportFormatError(`not a vCard file: no BEGIN:VCARD in its first ${SNIFF_BYTES / 1024} KiB`)
    const first = line.bytes[0]
    const short = line.bytes.length <= 20 && (first === 0x42 || first === 0x62 || first === 0x45 || first === 0x65) ? asciiHeader(line.bytes).trim().toUpperCase() : ''
    if (short === 'BEGIN:VCARD') {
      const unterminated = card ? finishCard({ ...card, fault: card.fault ?? { reason: 'card not terminated (no END:VCARD before the next BEGIN:VCARD)' } }) : null
      card = { number: ++cards, lines: [], size: 0, raw: 'BEGIN:VCARD', fault: null }
      return unterminated
    }
    if (!card) return null
    if (short === 'END:VCARD') {
      appendRaw(card, 'END:VCARD')
      const done = finishCard(card)
      card = null
      return done
    }
    if (card.fault) return null
    if (line.cut) {
      const header = latin1.decode(line.bytes.subarray(0, Math.min(200, Math.max(0, headerEnd(line.bytes)))))
      card.fault = { field: propertyName(header) || undefined, reason: `a line longer than ${maxLineBytes} bytes` }
      appendRaw(card, latin1.decode(line.bytes.subarray(0, 200)))
      return null
    }
    card.size += line.bytes.length + 2
    if (card.size > maxRecordBytes) {
      card.fault = { reason: `card larger than ${maxRecordBytes} bytes (photos not counted)` }
      return null
    }
    const decoded = decodeLine(line.bytes)
    if (!decoded.ok) {
      appendRaw(card, latin1.decode(line.bytes.subarray(0, 200)))
      card.fault = { field: decoded.field, reason: decoded.reason }
      return null
    }
    // vCard 3 types TZ as a UTC offset by default, so ical.js misreads `America/New_York`: read it as text.
    if (decoded.name === 'TZ' && !/^[^:]*;VALUE=/i.test(decoded.text)) decoded.text = decoded.text.replace(/^([^:;]*)/, '$1;VALUE=text')
    // Version 2.1 reads as 3.0 once its encodings are decoded (ical.js knows 3.0 and 4.0).
    card.lines.push(/^VERSION:\s*2\.1\s*$/i.test(decoded.text) ? 'VERSION:3.0' : decoded.text)
    return null
  }
  for await (const chunk of chunks) {
    for (const physical of splitter.push(chunk)) {
      const line = unfold.push(physical)
      const record = line && handle(line)
      if (record) yield record
    }
  }
  for (const physical of splitter.end()) {
    const line = unfold.push(physical)
    const record = line && handle(line)
    if (record) yield record
  }
  const last = unfold.end()
  const record = last && handle(last)
  if (record) yield record
  // `handle` assigns `card`: TypeScript does not see it here.
  const open = card as CardState | null
  if (open) yield finishCard({ ...open, fault: open.fault ?? { reason: 'card not terminated (no END:VCARD at the end of the file)' } })
  if (cards === 0) throw new ImportFormatError(bytesSeen === 0 ? 'empty file' : 'not a vCard file: no BEGIN:VCARD')
}
