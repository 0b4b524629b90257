/**
 * The synced fields of a vCard (RFC 6350 vCard 4.0, RFC 2426 vCard 3.0) as text, for the two-way contacts
 * sync (issue 15): `name` (FN, and N), `email` (the primary EMAIL), `phone` (the primary TEL). Pure: no
 * database, no clock.
 *
 * A write-back edits the card the server gave (`Contact.remoteCard`): only the content lines of the synced
 * fields change (rebuilt with ical.js), every other line is kept byte for byte (addresses, photos, the
 * server's own X- properties, its folding), so nothing this server does not model is lost. The "primary"
 * EMAIL / TEL is the first with a `pref` (TYPE=pref, vCard 3; PREF=n, vCard 4), else the first: the one
 * the import's mapping (imports/contacts/mapping.ts) makes `email` / `phone`.
 */
import ICAL from 'ical.js'

/** An ical.js design set (vCard 3 or 4). */
type Design = typeof ICAL.design.vcard

/** The fields written back to the server, in a fixed order; the same names as `SYNCED_CONTACT_FIELDS` (contacts/contact-writes.ts). */
export const CARD_FIELDS = ['name', 'email', 'phone'] as const

/** One of {@link CARD_FIELDS}. */
export type CardField = (typeof CARD_FIELDS)[number]

/** The synced fields of a card (null: the card has none). Whitespace is collapsed, as the import's mapping does. */
export type CardFields = { [F in CardField]: string | null }

/** A card that is not a vCard ical.js can read (no BEGIN:VCARD, a malformed line). */
export class CardError extends Error {
  override name = 'CardError'
}

/** One unfolded content line and the physical lines it was written as (kept to write it back unchanged). */
interface ContentLine {
  physical: string[]
  text: string
  /** Upper case, without its group (`item1.EMAIL` -> `EMAIL`). */
  name: string
}

const clean = (value: string | null | undefined): string => (value ?? '').replace(/\s+/g, ' ').trim()
const orNull = (value: string): string | null => (value === '' ? null : value)

/** The content lines of a card, unfolded (RFC 6350 3.2: a line starting with a space or a tab continues the previous one). */
function contentLines(text: string): ContentLine[] {
  const lines: ContentLine[] = []
  for (const physical of text.split(/\r\n|\n|\r/)) {
    const last = lines[lines.length - 1]
    if (last && (physical.startsWith(' ') || physical.startsWith('\t'))) {
      last.physical.push(physical)
      last.text += physical.slice(1)
      continue
    }
    if (physical === '') continue
    const end = physical.search(/[;:]/)
    const head = end === -1 ? physical : physical.slice(0, end)
    lines.push({ physical: [physical], text: physical, name: head.slice(head.lastIndexOf('.') + 1).trim().toUpperCase() })
  }
  return lines
}

/** The vCard version of a card's lines: `4.0`, else 3.0 (2.1 reads as 3.0). */
function designOf(lines: readonly ContentLine[]): Design {
  const version = lines.find((line) => line.name === 'VERSION')
  return version && /:\s*4\.0\s*$/.test(version.text) ? ICAL.design.vcard : ICAL.design.vcard3
}

type Jcal = [string, Record<string, unknown>, string, ...unknown[]]

function parseLine(line: ContentLine, design: Design): Jcal | null {
  try {
    return ICAL.parse.property(line.text, design) as unknown as Jcal
  } catch {
    return null
  }
}

function isPreferred(jcal: Jcal): boolean {
  const type = jcal[1].type
  const types = (Array.isArray(type) ? type : type === undefined ? [] : [type]).flatMap((t) => String(t).split(','))
  return types.some((t) => t.trim().toLowerCase() === 'pref') || jcal[1].pref !== undefined
}

/** The index (in `lines`) of the primary property `name` and its jCal, or null. */
function primary(lines: readonly ContentLine[], name: string, design: Design): { index: number; jcal: Jcal } | null {
  let first: { index: number; jcal: Jcal } | null = null
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]!.name !== name) continue
    const jcal = parseLine(lines[index]!, design)
    if (!jcal) continue
    if (isPreferred(jcal)) return { index, jcal }
    first ??= { index, jcal }
  }
  return first
}

function firstOf(lines: readonly ContentLine[], name: string, design: Design): { index: number; jcal: Jcal } | null {
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]!.name !== name) continue
    const jcal = parseLine(lines[index]!, design)
    if (jcal) return { index, jcal }
  }
  return null
}

function valueText(jcal: Jcal): string {
  const value = jcal[3]
  if (Array.isArray(value)) return value.map((part) => (Array.isArray(part) ? part.join(' ') : String(part ?? ''))).join(' ')
  return value === undefined || value === null ? '' : String(value)
}

/** The name an N value gives (given, additional, family), as the import's mapping joins it. */
function nameOfN(jcal: Jcal): string {
  const value = jcal[3]
  const parts = Array.isArray(value) ? value.map((part) => (Array.isArray(part) ? part.join(' ') : String(part ?? ''))) : [String(value ?? '')]
  return [parts[1], parts[2], parts[0]].map((part) => clean(part)).filter(Boolean).join(' ')
}

function checkCard(lines: readonly ContentLine[]): void {
  if (!lines.some((line) => /^BEGIN:VCARD\s*$/i.test(line.text)) || !lines.some((line) => /^END:VCARD\s*$/i.test(line.text))) {
    throw new CardError('not a vCard: no BEGIN:VCARD ... END:VCARD')
  }
}

/**
 * The synced fields of a vCard: `name` from FN (`\;` unescaped, as the import reads it), else N's given,
 * additional and family names; `email` and `phone` from the primary EMAIL / TEL (`mailto:` / `tel:` dropped).
 * @throws CardError when the text is not a vCard.
 */
export function readCardFields(text: string): CardFields {
  const lines = contentLines(text)
  checkCard(lines)
  const design = designOf(lines)
  const fn = firstOf(lines, 'FN', design)
  const n = fn && clean(valueText(fn.jcal)) ? null : firstOf(lines, 'N', design)
  const name = fn && clean(valueText(fn.jcal)) ? clean(valueText(fn.jcal).replace(/\\;/g, ';')) : n ? nameOfN(n.jcal) : ''
  const email = primary(lines, 'EMAIL', design)
  const phone = primary(lines, 'TEL', design)
  return {
    name: orNull(name),
    email: email ? orNull(clean(valueText(email.jcal).replace(/^mailto:/i, ''))) : null,
    phone: phone ? orNull(clean(valueText(phone.jcal).replace(/^tel:/i, ''))) : null,
  }
}

/** N's components (family; given; additional; prefixes; suffixes) of a name: the last word is the family name. */
function nComponents(name: string): string[] {
  const words = clean(name).split(' ').filter(Boolean)
  if (words.length <= 1) return ['', words[0] ?? '', '', '', '']
  return [words[words.length - 1]!, words.slice(0, -1).join(' '), '', '', '']
}

/** The head of a content line: its group and name as written (`item1.EMAIL`). */
const headOf = (text: string): string => /^[^;:]*/.exec(text)![0]

/**
 * One property as a content line (ical.js writes it), folded at 75 octets (RFC 6350 3.2); `head`: the
 * group and name as the original line wrote them (ical.js writes them in upper case).
 */
function lineOf(jcal: Jcal, design: Design, head?: string): ContentLine {
  const written = ICAL.stringify.property(jcal as unknown as Parameters<typeof ICAL.stringify.property>[0], design, true)
  const text = head === undefined ? written : head + written.slice(headOf(written).length)
  return { physical: ICAL.helpers.foldline(text).split(/\r\n|\n/), text, name: jcal[0].toUpperCase() }
}

/** The jCal of `property` with `value`: its group and parameters kept; a `tel:` URI value becomes text. */
function withValue(jcal: Jcal, value: string | string[]): Jcal {
  const type = jcal[2] === 'uri' ? 'text' : jcal[2]
  return [jcal[0], jcal[1], type, value]
}

/**
 * The card with the given synced fields replaced (undefined: unchanged; null: the property removed), every
 * other content line kept as it was. `name` rewrites FN and N (N from the name: the last word is the family
 * name), or adds them; `email` / `phone` rewrite the primary EMAIL / TEL (parameters and group kept), or add
 * one before END:VCARD. Lines end in CRLF (RFC 6350 3.2).
 * @throws CardError when the text is not a vCard.
 */
export function replaceCardFields(text: string, fields: Partial<CardFields>): string {
  const lines = contentLines(text)
  checkCard(lines)
  const design = designOf(lines)
  const v4 = design === ICAL.design.vcard
  // Not findLastIndex (ES2023): the web client's type check, which reads this file through the schema, targets ES2022.
  const end = () => {
    for (let index = lines.length - 1; index >= 0; index--) if (/^END:VCARD\s*$/i.test(lines[index]!.text)) return index
    return -1
  }
  const afterVersion = () => {
    const at = lines.findIndex((line) => line.name === 'VERSION')
    return at === -1 ? lines.findIndex((line) => /^BEGIN:VCARD\s*$/i.test(line.text)) + 1 : at + 1
  }
  const set = (found: { index: number; jcal: Jcal } | null, value: string | string[] | null, fresh: () => Jcal, at: () => number) => {
    if (value === null) {
      if (found) lines.splice(found.index, 1)
      return
    }
    if (found) lines[found.index] = lineOf(withValue(found.jcal, value), design, headOf(lines[found.index]!.text))
    else lines.splice(at(), 0, lineOf(fresh(), design))
  }
  if (fields.name !== undefined) {
    const name = fields.name === null ? null : clean(fields.name)
    // FN is required (vCard 3 and 4): a name cleared keeps it, empty.
    set(firstOf(lines, 'N', design), nComponents(name ?? ''), () => ['n', {}, 'text', nComponents(name ?? '')], afterVersion)
    set(firstOf(lines, 'FN', design), name ?? '', () => ['fn', {}, 'text', name ?? ''], afterVersion)
  }
  if (fields.email !== undefined) {
    const email = fields.email === null ? null : clean(fields.email)
    set(primary(lines, 'EMAIL', design), email, () => ['email', v4 ? {} : { type: 'INTERNET' }, 'text', email ?? ''], end)
  }
  if (fields.phone !== undefined) {
    const phone = fields.phone === null ? null : clean(fields.phone)
    set(primary(lines, 'TEL', design), phone, () => ['tel', {}, v4 ? 'text' : 'phone-number', phone ?? ''], end)
  }
  return lines.flatMap((line) => line.physical).join('\r\n') + '\r\n'
}

/**
 * A new vCard 3.0 (what every CardDAV server takes, Google's included) with the UID and the synced fields:
 * VERSION, UID, FN and N always (FN empty when there is no name), EMAIL and TEL when given.
 */
export function newCard(uid: string, fields: CardFields): string {
  const base = ['BEGIN:VCARD', 'VERSION:3.0', 'PRODID:-//suggestions//carddav sync//EN', 'END:VCARD', ''].join('\r\n')
  const withUid = replaceCardFields(base, fields)
  const lines = contentLines(withUid)
  lines.splice(2, 0, lineOf(['uid', {}, 'text', uid], ICAL.design.vcard3))
  return lines.flatMap((line) => line.physical).join('\r\n') + '\r\n'
}

/**
 * The card as ical.js reads it for the import's mapping (`draftOfCard`): vCard 3's TZ read as text (ical.js
 * types it as a UTC offset and misreads `America/New_York`), VERSION 2.1 read as 3.0.
 * @throws CardError when ical.js cannot parse it.
 */
export function parseCard(text: string): ICAL.Component {
  const lines = contentLines(text)
  checkCard(lines)
  const fixed = lines.map((line) => {
    if (line.name === 'TZ' && !/^[^:]*;VALUE=/i.test(line.text)) return line.text.replace(/^([^:;]*)/, '$1;VALUE=text')
    if (line.name === 'VERSION' && /:\s*2\.1\s*$/.test(line.text)) return 'VERSION:3.0'
    return line.text
  })
  try {
    const parsed = ICAL.parse(fixed.join('\r\n') + '\r\n') as unknown
    const first = Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed : Array.isArray(parsed) ? parsed[0] : null
    if (!Array.isArray(first) || first[0] !== 'vcard') throw new CardError('not a vCard')
    return new ICAL.Component(first as [string, unknown[], unknown[]])
  } catch (error) {
    if (error instanceof CardError) throw error
    throw new CardError(`malformed card: ${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'}`)
  }
}

/** Whether two values of `field` are the same (e-mails without regard to case, all with whitespace collapsed). */
export function sameFieldValue(field: CardField, a: string | null | undefined, b: string | null | undefined): boolean {
  const x = clean(a)
  const y = clean(b)
  return field === 'email' ? x.toLowerCase() === y.toLowerCase() : x === y
}

/** A field changed on both sides to different values: the server's value won. */
export interface FieldConflict {
  field: CardField
  localValue: string | null
  remoteValue: string | null
}

/** What a write-back does after a 412 (see {@link decideWriteBack}). */
export interface WriteBackDecision {
  /** Fields to write on top of the server's card (the local value). */
  write: Partial<CardFields>
  /** Fields changed on both sides: the server wins, the local value is kept in a SyncConflict row. */
  conflicts: FieldConflict[]
  /** Fields the local contact takes from the server (the conflicts' remote values). */
  adopt: Partial<CardFields>
}

/**
 * The 3-way decision of a write-back whose If-Match failed (RFC 7232 412): for each field edited here
 * (`dirty`), with `base` the card as last synced, `local` the contact's values and `server` the server's
 * current card:
 * - the server has the local value already: nothing to do;
 * - the server did not change it (server = base): the local value is written on top of the server's card;
 * - the server changed it to another value: a conflict, the server's value wins (and is adopted here).
 * Fields not in `dirty` are the server's (the pull brings them).
 */
export function decideWriteBack(dirty: readonly CardField[], base: CardFields, local: CardFields, server: CardFields): WriteBackDecision {
  const decision: WriteBackDecision = { write: {}, conflicts: [], adopt: {} }
  for (const field of CARD_FIELDS) {
    if (!dirty.includes(field)) continue
    if (sameFieldValue(field, server[field], local[field])) continue
    if (sameFieldValue(field, server[field], base[field])) {
      decision.write[field] = local[field]
      continue
    }
    decision.conflicts.push({ field, localValue: local[field], remoteValue: server[field] })
    decision.adopt[field] = server[field]
  }
  return decision
}
