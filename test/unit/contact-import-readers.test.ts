/**
 * The contacts import readers (issue 12): every mapped field of each fixture (Apple, Google, Outlook and
 * vCard 4 cards; Google and Outlook CSV, comma and semicolon), and every bad input: an empty file, a file
 * that is not vCard, a 10 MB single line, invalid UTF-8, a CSV of 10,000 columns, a malformed card or row
 * among good ones (rejected with its position, the rest read). Then fast-check: any bytes fed to either
 * reader end, in bounded time, with records or the typed format error, nothing else.
 */
import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { stringify } from 'csv-stringify/sync'
import { describe, expect, it } from 'vitest'
import { ImportFormatError, readContactRecords } from '../../src/imports/contacts/read-contacts.ts'
import { normalizeBirthday, phoneKey } from '../../src/imports/contacts/mapping.ts'
import type { ContactFormat, ImportedContact, Rejected } from '../../src/imports/types.ts'

const fixture = (name: string) => readFile(new URL(`../fixtures/imports/${name}`, import.meta.url))

/** The bytes in chunks of `size` (a chunk boundary may cut a line, a character, a CRLF). */
async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

async function readAll(bytes: Uint8Array | string, format: ContactFormat, chunkSize?: number, options = {}): Promise<(ImportedContact | Rejected)[]> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes
  const out: (ImportedContact | Rejected)[] = []
  for await (const record of readContactRecords(chunked(data, chunkSize), format, options)) out.push(record)
  return out
}

const contacts = (records: (ImportedContact | Rejected)[]) => records.filter((r): r is ImportedContact => r.kind === 'contact')
const rejections = (records: (ImportedContact | Rejected)[]) => records.filter((r): r is Rejected => r.kind === 'rejected')
const byName = (records: (ImportedContact | Rejected)[], name: string) => contacts(records).find((c) => c.name === name)!

describe('anniversaries', () => {
  it('reads vCard 4 ANNIVERSARY and vCard 3 X-ANNIVERSARY as a birthday is read, and drops a bad one', async () => {
    const cards = [
      'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Four\r\nANNIVERSARY:20100630\r\nEND:VCARD',
      'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Three\r\nX-ANNIVERSARY:2009-05-01\r\nEND:VCARD',
      'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No year\r\nANNIVERSARY:--0229\r\nEND:VCARD',
      'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nX-ANNIVERSARY:someday\r\nEND:VCARD',
      'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:None\r\nEND:VCARD',
    ]
    const records = await readAll(cards.join('\r\n') + '\r\n', 'vcard')
    expect(byName(records, 'Four').anniversary).toBe('2010-06-30')
    expect(byName(records, 'Three').anniversary).toBe('2009-05-01')
    expect(byName(records, 'No year').anniversary).toBe('--02-29')
    expect(byName(records, 'Bad')).not.toHaveProperty('anniversary')
    expect(byName(records, 'Bad').dropped).toEqual([{ field: 'anniversary', reason: 'not a date: someday' }])
    expect(byName(records, 'None')).not.toHaveProperty('anniversary')
  })
})

describe('vCard fixtures', () => {
  it('reads Apple vCard 3.0: grouped item1.EMAIL, folded lines, X-SOCIALPROFILE, X-APPLE-OMIT-YEAR, skipped PHOTO', async () => {
    for (const size of [7, 64 * 1024]) {
      const records = await readAll(await fixture('apple.vcf'), 'vcard', size)
      expect(rejections(records)).toEqual([])
      const ada = byName(records, 'Ada Marie Example')
      expect(ada).toMatchObject({
        kind: 'contact',
        position: 1,
        externalId: '6B29FC40-CA47-1067-B31D-00DD010662DA',
        emails: ['ada@example.com', 'ada.work@example.org'],
        phones: ['+49 30 1234567', '(030) 7654321'],
        linkedIn: 'http://www.linkedin.com/in/ada-example',
        xHandle: 'http://twitter.com/adaexample',
        instagram: 'https://www.instagram.com/ada.example',
        otherSocialMedia: { HomePage: 'https://ada.example.com' },
        location: 'Musterstraße 1, Berlin, 10115, Germany',
        timezone: null,
        customNotes: 'Met at the conference in Lisbon, 2023.\nLikes climbing.',
        birthday: '--04-15',
        groups: ['Friends', 'Climbing'],
        source: 'VCARD',
      })
      expect(ada.dropped).toBeUndefined()
      // The photo is neither stored nor kept in the report's raw text.
      expect(JSON.stringify(ada)).not.toContain('AAECAwQF')
      expect(byName(records, 'Bruno Sample')).toMatchObject({
        position: 2,
        emails: ['bruno.sample@example.net'],
        phones: ['+1 (555) 010-2030'],
        birthday: '1985-11-02',
        timezone: 'America/New_York',
        customNotes: 'A note folded over two lines, as Apple writes anything longer than seventy-five octets.',
      })
    }
  })

  it('reads Google vCard 3.0: no UID (a stable hash), escaped URL colon, myContacts dropped', async () => {
    const records = await readAll(await fixture('google.vcf'), 'vcard')
    const chidi = byName(records, 'Chidi Placeholder')
    expect(chidi).toMatchObject({
      emails: ['chidi@example.com', 'chidi@work.example.com'],
      phones: ['0049301234567'],
      linkedIn: 'https://www.linkedin.com/in/chidi-placeholder',
      location: '12 Sample Road, Springfield, IL, 62701, USA',
      birthday: '1990-07-21',
      groups: ['Book Club'],
      customNotes: 'Lent him "Dune".',
    })
    expect(chidi.externalId).toMatch(/^h:[0-9a-f]{32}$/)
    // The same card gives the same identity every time (an import twice finds it).
    const again = await readAll(await fixture('google.vcf'), 'vcard', 3)
    expect(byName(again, 'Chidi Placeholder').externalId).toBe(chidi.externalId)
    expect(byName(records, 'Dana Nobody')).toMatchObject({ phones: ['+44 20 7946 0000'], groups: [], emails: [] })
  })

  it('reads Outlook vCard 2.1: QUOTED-PRINTABLE with CHARSET utf-8 and windows-1252, soft line breaks, bare TYPE parameters', async () => {
    const records = await readAll(await fixture('outlook.vcf'), 'vcard', 5)
    expect(rejections(records)).toEqual([])
    expect(byName(records, 'Jürgen Müller')).toMatchObject({
      position: 1,
      emails: ['juergen.mueller@example.de'],
      phones: ['+49 89 1234567', '+49 170 1234567'],
      location: 'Hauptstraße 5, München, 80331, Deutschland',
      customNotes: 'Erste Zeile\nZweite Zeile mit einem sehr langen Text, der umbrochen wird.',
      birthday: '1970-03-01',
    })
    expect(byName(records, 'François Garçon')).toMatchObject({ position: 2, emails: ['francois@example.fr'] })
  })

  it('reads vCard 4.0: --MMDD birthday, PREF=1, tel: URIs, LABEL address, IANA TZ; a bad TZ and birthday are dropped and reported', async () => {
    const records = await readAll(await fixture('vcard4.vcf'), 'vcard')
    expect(byName(records, 'Eve Example')).toMatchObject({
      externalId: 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1',
      emails: ['eve@example.com', 'eve.home@example.com'],
      phones: ['+1-555-555-0100'],
      birthday: '--04-15',
      timezone: 'Europe/Paris',
      location: '10 Rue Exemple, 75001 Paris, France',
      instagram: 'https://instagram.com/eve.example',
      otherSocialMedia: { xmpp: 'xmpp:eve@example.com' },
      groups: ['Work', 'Paris'],
      customNotes: 'vCard 4 card.',
    })
    const frank = byName(records, 'Frank Example')
    expect(frank).toMatchObject({ timezone: null, birthday: null })
    expect(frank.dropped).toEqual([
      { field: 'timezone', reason: expect.stringContaining('Mars/Olympus_Mons') },
      { field: 'birthday', reason: expect.stringContaining('1985-13-02') },
    ])
  })
})

describe('CSV fixtures', () => {
  it('reads a Google Contacts CSV (BOM, multi-line quoted fields, ::: values, Labels without * myContacts)', async () => {
    const records = await readAll(await fixture('google-contacts.csv'), 'csv', 11)
    const grace = byName(records, 'Grace Example')
    expect(grace).toMatchObject({
      position: 2,
      emails: ['grace@example.com', 'grace@work.example.com', 'grace.alt@work.example.com'],
      phones: ['+49 30 1234567'],
      linkedIn: 'https://www.linkedin.com/in/grace-example',
      otherSocialMedia: { Blog: 'https://grace.example.com' },
      location: '1 Example Way, Springfield, IL 62701, USA',
      customNotes: 'Multi-line note:\nsecond line, with a comma',
      birthday: '1979-12-09',
      groups: ['Friends'],
      source: 'CSV',
    })
    expect(grace.externalId).toMatch(/^csv:[0-9a-f]{32}$/)
    // Positions are the line a row starts on: Grace's note and address span lines 2-5.
    expect(byName(records, 'Heidi Sample')).toMatchObject({ position: 6, birthday: '--06-30', xHandle: 'https://x.com/heidisample', groups: [] })
    expect(byName(records, 'Example Plumbing Ltd')).toMatchObject({ position: 7, emails: ['office@plumbing.example'], groups: ['Work'] })
    expect(rejections(records)).toEqual([expect.objectContaining({ position: 8, field: 'name', reason: 'no name, e-mail or phone' })])
    const ivan = byName(records, 'Ivan Bademail')
    expect(ivan).toMatchObject({ position: 9, emails: [], phones: ['+7 495 000-00-00'] })
    expect(ivan.dropped).toEqual([{ field: 'email', reason: 'not an e-mail address: not-an-email' }])
  })

  it('reads an Outlook CSV, comma in UTF-8 and semicolon in Windows-1252, to the same contacts', async () => {
    const comma = await readAll(await fixture('outlook-contacts.csv'), 'csv')
    const semicolon = await readAll(await fixture('outlook-contacts-semicolon.csv'), 'csv-outlook', 13)
    expect(semicolon).toEqual(comma.map((record) => ({ ...record, raw: expect.any(String) })))
    expect(byName(comma, 'Jürgen Müller')).toMatchObject({
      position: 2,
      emails: ['juergen.mueller@example.de', 'jm@example.org'],
      phones: ['+49 170 1234567', '+49 89 1234567'],
      location: 'Hauptstraße 5, München, 80331, Deutschland',
      birthday: '1970-03-01',
      customNotes: 'Outlook note; with a semicolon',
      groups: ['Kunden', 'Tennis'],
      linkedIn: 'https://www.linkedin.com/in/juergen-example',
    })
    expect(byName(comma, 'Kim Example')).toMatchObject({ position: 3, birthday: null, phones: ['(555) 010-9999'] })
    expect(byName(comma, 'Kim Example').dropped).toBeUndefined()
  })
})

describe('bad input', () => {
  const card = (name: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:${name}\r\nEMAIL:${name.toLowerCase().replace(/\W/g, '')}@example.com\r\nEND:VCARD\r\n`

  it('refuses an empty file and a file that is not vCard with ImportFormatError (BAD_USER_INPUT)', async () => {
    for (const format of ['vcard', 'csv'] as const) {
      const error = await readAll('', format).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ImportFormatError)
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', message: 'empty file' })
    }
    await expect(readAll('name,email\nJane,jane@example.com\n', 'vcard')).rejects.toThrow(/not a vCard file/)
    await expect(readAll('x'.repeat(70_000) + '\nBEGIN:VCARD\n', 'vcard')).rejects.toBeInstanceOf(ImportFormatError)
    await expect(readAll('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', 'vcard')).rejects.toThrow(/no BEGIN:VCARD/)
    await expect(readAll('name,email\nJane,jane@example.com\n', 'csv')).rejects.toThrow(/neither a Google Contacts nor an Outlook/)
  })

  it('rejects the card of a 10 MB single line without holding it, and reads the cards after it', async () => {
    const big = `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big\r\nNOTE:${'x'.repeat(10 * 1024 * 1024)}\r\nEND:VCARD\r\n`
    const records = await readAll(card('Before') + big + card('After'), 'vcard', 64 * 1024)
    expect(contacts(records).map((c) => c.name)).toEqual(['Before', 'After'])
    expect(rejections(records)).toEqual([expect.objectContaining({ position: 2, field: 'NOTE', reason: 'a line longer than 1048576 bytes' })])
    expect(rejections(records)[0]!.raw!.length).toBeLessThanOrEqual(2048)
    // A photo of any size is only dropped.
    const photo = `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Pic\r\nPHOTO;ENCODING=b:${'A'.repeat(3 * 1024 * 1024)}\r\n ${'B'.repeat(1000)}\r\nEND:VCARD\r\n`
    expect(contacts(await readAll(photo, 'vcard', 64 * 1024)).map((c) => c.name)).toEqual(['Pic'])
  })

  it('reads a vCard file that starts with a UTF-8 byte order mark', async () => {
    const records = await readAll(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(card('Bom') + card('Second'))]), 'vcard', 2)
    expect(contacts(records).map((c) => [c.position, c.name])).toEqual([
      [1, 'Bom'],
      [2, 'Second'],
    ])
  })

  it('rejects a card over maxRecordBytes with its number', async () => {
    const long = `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Long\r\n${'NOTE:abcdefgh\r\n'.repeat(100)}END:VCARD\r\n`
    const records = await readAll(card('A') + long + card('B'), 'vcard', 100, { maxRecordBytes: 1000 })
    expect(rejections(records)).toEqual([expect.objectContaining({ position: 2, reason: expect.stringContaining('larger than 1000 bytes') })])
    expect(contacts(records).map((c) => c.name)).toEqual(['A', 'B'])
  })

  it('rejects a card with invalid UTF-8 naming the property, and a CSV row with it; the rest is read', async () => {
    const bad = new Uint8Array([...new TextEncoder().encode('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad \xff'.replace('\xff', '')), 0xff, 0xfe, ...new TextEncoder().encode('\r\nEND:VCARD\r\n')])
    const bytes = new Uint8Array([...new TextEncoder().encode(card('One')), ...bad, ...new TextEncoder().encode(card('Three'))])
    const records = await readAll(bytes, 'vcard', 9)
    expect(rejections(records)).toEqual([expect.objectContaining({ position: 2, field: 'FN', reason: 'invalid UTF-8 bytes' })])
    expect(contacts(records).map((c) => c.name)).toEqual(['One', 'Three'])

    // A UTF-8 CSV (its first 64 KiB are UTF-8) with a bad byte further on: that row is rejected.
    const header = 'First Name,Last Name,E-mail 1 - Value\r\n'
    const padding = Array.from({ length: 4000 }, (_, i) => `P${i},Q,p${i}@example.com\r\n`).join('')
    const csv = new Uint8Array([...new TextEncoder().encode(header + padding + 'Bad,'), 0xff, ...new TextEncoder().encode(',bad@example.com\r\nGood,Row,good@example.com\r\n')])
    const rows = await readAll(csv, 'csv', 4096)
    expect(rejections(rows)).toEqual([expect.objectContaining({ position: 4002, reason: expect.stringContaining('invalid UTF-8') })])
    expect(contacts(rows).at(-1)).toMatchObject({ name: 'Good Row', position: 4003 })
  })

  it('refuses a CSV of 10,000 columns with ImportFormatError naming the count', async () => {
    const header = ['First Name', 'E-mail 1 - Value', ...Array.from({ length: 9998 }, (_, i) => `Custom ${i}`)].join(',')
    const error = await readAll(`${header}\nJane,jane@example.com\n`, 'csv', 8192).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ImportFormatError)
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', message: 'the CSV has 10000 columns; at most 1000' })
  })

  it('rejects a malformed card among good ones with its number; the rest are read', async () => {
    const broken = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nthis line has no colon\r\nEND:VCARD\r\n'
    const unterminated = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Never Ends\r\n'
    // A quoted-printable value ending in a soft break right before END:VCARD: the card still ends there.
    const strayEquals = 'BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Stray Equals\r\nNOTE;ENCODING=QUOTED-PRINTABLE:abc=\r\nEND:VCARD\r\n'
    const records = await readAll(card('First') + broken + card('Third') + unterminated + card('Fifth') + strayEquals + unterminated, 'vcard', 16)
    expect(contacts(records).map((c) => [c.position, c.name])).toEqual([
      [1, 'First'],
      [3, 'Third'],
      [5, 'Fifth'],
      [6, 'Stray Equals'],
    ])
    expect(rejections(records).map((r) => [r.position, r.reason])).toEqual([
      [2, 'a line without ":" (not a property)'],
      [4, 'card not terminated (no END:VCARD before the next BEGIN:VCARD)'],
      [7, 'card not terminated (no END:VCARD at the end of the file)'],
    ])
  })

  it('rejects malformed and oversized CSV rows with their line; the rows after them are read', async () => {
    const csv = [
      'First Name,Last Name,E-mail 1 - Value',
      'Ann,One,ann@example.com',
      'Bad,"quote"x,bad@example.com',
      'Cid,Three,cid@example.com',
      `Huge,${'y'.repeat(5000)},huge@example.com`,
      'Dee,"Multi',
      'line",dee@example.com',
      'Eve,Five,eve@example.com',
      '',
    ].join('\n')
    const records = await readAll(csv, 'csv', 100, { maxRecordBytes: 1000 })
    expect(contacts(records).map((c) => [c.position, c.name])).toEqual([
      [2, 'Ann One'],
      [4, 'Cid Three'],
      [6, 'Dee Multi\nline'.replace('\n', ' ')],
      [8, 'Eve Five'],
    ])
    expect(rejections(records).map((r) => r.position)).toEqual([3, 5])
  })
})

describe('mapping', () => {
  it('normalizes birthdays of every export', () => {
    expect(normalizeBirthday('--0415')).toBe('--04-15')
    expect(normalizeBirthday('--04-15')).toBe('--04-15')
    expect(normalizeBirthday('1985-04-15')).toBe('1985-04-15')
    expect(normalizeBirthday('19850415')).toBe('1985-04-15')
    expect(normalizeBirthday('1985-04-15T00:00:00Z')).toBe('1985-04-15')
    expect(normalizeBirthday('1604-04-15', '1604')).toBe('--04-15')
    expect(normalizeBirthday('2000-04-15', '2000')).toBe('--04-15')
    expect(normalizeBirthday('4/15/1985')).toBe('1985-04-15')
    expect(normalizeBirthday('15.04.1985')).toBe('1985-04-15')
    expect(normalizeBirthday('15/04/1985')).toBe('1985-04-15')
    expect(normalizeBirthday('--02-29')).toBe('--02-29')
    for (const bad of ['1985-02-30', '1985-13-01', '0999-01-01', 'tomorrow', '--13-01', '']) expect(normalizeBirthday(bad)).toBeNull()
  })

  it('keys phones in E.164 whatever their format, local numbers by their digits', () => {
    expect(phoneKey('+49 30 1234567')).toBe('tel:+49301234567')
    expect(phoneKey('0049301234567')).toBe('tel:+49301234567')
    expect(phoneKey('+49 (30) 123-4567')).toBe('tel:+49301234567')
    expect(phoneKey('030 1234567')).toBe('tel:0301234567')
    expect(phoneKey('030 1234567', 'DE')).toBe('tel:+49301234567')
    expect(phoneKey('12')).toBeNull()
  })
})

describe('CSV rows against csv-stringify (fast-check oracle)', () => {
  it('reads back every row csv-stringify writes, with quotes, delimiters and line breaks in fields, at the line it starts on', async () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', ';', '"', '\n', '\r\n', 'ü', '😀', ':'), maxLength: 12 })
    // CRLF rows with every field quoted (as Outlook writes), or LF rows quoted where needed (csv-stringify
    // leaves a field with a bare LF unquoted under CRLF rows: no reader could split that, csv-parse neither).
    const layout = fc.constantFrom({ record_delimiter: 'windows' as const, quoted: true }, { record_delimiter: 'unix' as const, quoted: false })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(field, field), { minLength: 1, maxLength: 30 }), fc.constantFrom(',', ';'), layout, fc.integer({ min: 1, max: 50 }), async (rows, delimiter, options, chunk) => {
        const table = [['First Name', 'Notes', 'E-mail 1 - Value'], ...rows.map(([name, note], i) => [`P${i} ${name}`, note, `p${i}@example.com`])]
        const text = stringify(table, { delimiter, ...options })
        const records = await readAll(text, 'csv', chunk)
        expect(rejections(records)).toEqual([])
        let line = 2
        for (const [i, record] of contacts(records).entries()) {
          const [name, note] = rows[i]!
          expect(record).toMatchObject({ position: line, emails: [`p${i}@example.com`], name: `P${i} ${name}`.replace(/\s+/g, ' ').trim(), customNotes: note.trim() || null })
          line += 1 + (name.match(/\n/g)?.length ?? 0) + (note.match(/\n/g)?.length ?? 0)
        }
        expect(contacts(records)).toHaveLength(rows.length)
      }),
      { numRuns: 150 },
    )
  })
})

describe('vCard cards folded anywhere (fast-check oracle)', () => {
  /** vCard text escaping (RFC 6350 3.4). */
  const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/;/g, '\\;').replace(/\r\n|\n/g, '\\n')
  /** Folds a line every `width` bytes, even inside a UTF-8 character (some exporters do). */
  function fold(line: string, width: number): Uint8Array[] {
    const bytes = new TextEncoder().encode(line)
    const out: Uint8Array[] = [bytes.subarray(0, width)]
    for (let at = width; at < bytes.length; at += width - 1) out.push(new Uint8Array([0x20, ...bytes.subarray(at, at + width - 1)]))
    return out
  }

  it('reads back names and notes with escapes and any characters, folded at any byte', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', ';', ':', '\\', '\n', 'ü', '😀', '"', '='), minLength: 1, maxLength: 40 })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 10 }), fc.integer({ min: 2, max: 80 }), fc.constantFrom('\r\n', '\n'), fc.integer({ min: 1, max: 64 }), async (cards, width, eol, chunk) => {
          const lines: Uint8Array[] = []
          cards.forEach(([name, note], i) => {
            for (const line of ['BEGIN:VCARD', 'VERSION:3.0', `UID:u${i}`, `FN:P${i} ${escape(name)}`, `NOTE:${escape(note)}`, 'END:VCARD']) lines.push(...fold(line, width))
          })
          const newline = new TextEncoder().encode(eol)
          const bytes = new Uint8Array(lines.reduce((size, line) => size + line.length + newline.length, 0))
          let at = 0
          for (const line of lines) {
            bytes.set(line, at)
            bytes.set(newline, at + line.length)
            at += line.length + newline.length
          }
          const records = await readAll(bytes, 'vcard', chunk)
          expect(rejections(records)).toEqual([])
          expect(contacts(records).map((c) => [c.position, c.externalId, c.name, c.customNotes])).toEqual(
            cards.map(([name, note], i) => [i + 1, `u${i}`, `P${i} ${name}`.replace(/\s+/g, ' ').trim(), note.trim() || null]),
          )
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('hostile input (fast-check)', () => {
  const allowed = (error: unknown) => error instanceof ImportFormatError

  async function survives(bytes: Uint8Array, format: ContactFormat, chunk: number): Promise<void> {
    const started = performance.now()
    try {
      for await (const record of readContactRecords(chunked(bytes, chunk), format, { maxRecordBytes: 4096 })) {
        expect(['contact', 'rejected']).toContain(record.kind)
        expect(record.position).toBeGreaterThan(0)
      }
    } catch (error) {
      if (!allowed(error)) throw error
    }
    expect(performance.now() - started).toBeLessThan(2000)
  }

  /** Lines that look like vCard and CSV, shuffled with noise: the readers' edges are reached, not just their first check. */
  const vcardLine = fc.oneof(
    fc.constantFrom('BEGIN:VCARD', 'END:VCARD', 'VERSION:3.0', 'VERSION:2.1', 'VERSION:4.0', 'FN:Jane', 'N:Doe;Jane;;;', ' folded', '\tfolded', 'EMAIL:a@b.c', 'TEL:+49 30 1'),
    fc.constantFrom('NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=utf-8:a=C3=', 'NOTE;CHARSET=x-unknown:a', 'PHOTO;ENCODING=b:AAAA', 'BDAY:--0230', 'TZ:Europe/Berlin', 'item1.URL:http://x', 'ADR;LABEL="a":;;b', 'CATEGORIES:a,b', '='),
    fc.string({ maxLength: 40 }),
  )
  const csvLine = fc.oneof(
    fc.constantFrom('First Name,Last Name,E-mail 1 - Value,Labels', 'First Name;E-mail Address;Categories', 'Jane,Doe,j@x.y,* myContacts', '"a""b",c', '"open', 'x"y,z'),
    fc.string({ maxLength: 40 }),
  )

  it('never throws anything but ImportFormatError on random bytes, in bounded time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom<ContactFormat>('vcard', 'csv', 'csv-google', 'csv-outlook'), fc.integer({ min: 1, max: 512 }), (bytes, format, chunk) =>
        survives(bytes, format, chunk),
      ),
      { numRuns: 150 },
    )
  })

  it('never throws anything but ImportFormatError on near-vCard and near-CSV text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(vcardLine, { maxLength: 60 }), fc.constantFrom('\r\n', '\n'), fc.integer({ min: 1, max: 64 }), (lines, eol, chunk) =>
        survives(new TextEncoder().encode(['BEGIN:VCARD', ...lines].join(eol)), 'vcard', chunk),
      ),
      { numRuns: 200 },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(csvLine, { maxLength: 60 }), fc.integer({ min: 1, max: 64 }), (lines, chunk) =>
        survives(new TextEncoder().encode(['First Name,Last Name,E-mail 1 - Value,Phone 1 - Value,Labels,Birthday', ...lines].join('\n')), 'csv', chunk),
      ),
      { numRuns: 200 },
    )
  })
})
