/**
 * The synced fields of a vCard (src/sync/card-fields.ts): random names, e-mails and phones round-trip through
 * replace / read (and through the import's mapping, which the pull uses), every other content line survives
 * byte for byte, and the 3-way decision of a write-back after a 412.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { finishContact } from '../../src/imports/contacts/mapping.ts'
import { draftOfCard } from '../../src/imports/contacts/vcard-reader.ts'
import { decideWriteBack, newCard, parseCard, readCardFields, replaceCardFields, type CardFields } from '../../src/sync/card-fields.ts'

const v3 = [
  'BEGIN:VCARD',
  'VERSION:3.0',
  'UID:card-1',
  'FN:Ann Smith',
  'N:Smith;Ann;;Dr.;',
  'item1.EMAIL;TYPE=INTERNET:other@example.com',
  'item2.EMAIL;TYPE=INTERNET,pref:ann@example.com',
  'item1.X-ABLabel:_$!<Other>!$_',
  'TEL;TYPE=CELL:+1 555 0100',
  'TEL;TYPE=WORK:+1 555 0199',
  'ADR;TYPE=HOME:;;1 Main St;Springfield;IL;62701;USA',
  'TZ:America/New_York',
  'NOTE:line one\\nline two\\, with a comma',
  'CATEGORIES:friends,work',
  'PHOTO;ENCODING=b;TYPE=JPEG:AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKKLLLLMMMMNNNNOOOOPPPPQQQQRRRRSSSS',
  ' TTTTUUUUVVVV',
  'X-CUSTOM;X-P="a:b":kept as it is',
  'BDAY:1985-04-15',
  'END:VCARD',
  '',
].join('\r\n')

const v4 = [
  'BEGIN:VCARD',
  'VERSION:4.0',
  'UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1',
  'FN;LANGUAGE=en:Bob Jones',
  'EMAIL;TYPE=work:bob@work.example',
  'EMAIL;PREF=1:bob@example.com',
  'TEL;VALUE=uri;TYPE=cell:tel:+1-555-0111',
  'ADR:;;2 High St;Oxford;;OX1;UK',
  'BDAY:--0415',
  'END:VCARD',
  '',
].join('\r\n')

/** The content lines (unfolded) of a card but the synced ones. */
function otherLines(card: string): string[] {
  return card
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((line) => line && !/^([\w-]+\.)?(FN|N|EMAIL|TEL)[;:]/i.test(line))
}

const clean = (value: string) => value.replace(/\s+/g, ' ').trim()
const nameArb = fc
  .string({ minLength: 1, maxLength: 80, unit: 'grapheme' })
  .map(clean)
  .filter((name) => name.length > 0 && !name.includes('\\;') && ![...name].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
const emailArb = fc
  .tuple(fc.stringMatching(/^[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?$/), fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.constantFrom('com', 'org', 'de'))
  .filter(([local]) => !local.includes('..'))
  .map(([local, domain, tld]) => `${local}@${domain}.${tld}`)
const phoneArb = fc.stringMatching(/^\+?[0-9]{2,4}( [0-9]{2,6}){1,3}$/)
const fieldsArb = fc.record({ name: nameArb, email: fc.option(emailArb, { nil: null }), phone: fc.option(phoneArb, { nil: null }) })

describe('card fields', () => {
  it('reads FN, the preferred EMAIL and TEL (vCard 3 and 4)', () => {
    expect(readCardFields(v3)).toEqual({ name: 'Ann Smith', email: 'ann@example.com', phone: '+1 555 0100' })
    expect(readCardFields(v4)).toEqual({ name: 'Bob Jones', email: 'bob@example.com', phone: '+1-555-0111' })
    expect(readCardFields('BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;Q;;\r\nEND:VCARD\r\n')).toEqual({ name: 'Jane Q Doe', email: null, phone: null })
  })

  it('replaces only the synced lines: groups, parameters and every other property kept', () => {
    const replaced = replaceCardFields(v3, { name: 'Jane Doe', email: 'jane@example.org' })
    expect(replaced).toContain('FN:Jane Doe\r\n')
    expect(replaced).toContain('N:Doe;Jane;;;\r\n')
    expect(replaced).toContain('item2.EMAIL;TYPE=INTERNET,pref:jane@example.org\r\n')
    expect(replaced).toContain('item1.EMAIL;TYPE=INTERNET:other@example.com\r\n')
    expect(replaced).toContain('TEL;TYPE=CELL:+1 555 0100\r\n')
    expect(otherLines(replaced)).toEqual(otherLines(v3))
    // The folded photo is written as it was folded.
    expect(replaced).toContain('SSSS\r\n TTTTUUUUVVVV\r\n')
    const cleared = replaceCardFields(v3, { phone: null })
    expect(readCardFields(cleared).phone).toBe('+1 555 0199')
  })

  it('adds the properties a card lacks', () => {
    const bare = 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:X\r\nEND:VCARD\r\n'
    const replaced = replaceCardFields(bare, { email: 'x@example.com', phone: '+49 30 1234567' })
    expect(readCardFields(replaced)).toEqual({ name: 'X', email: 'x@example.com', phone: '+49 30 1234567' })
    expect(replaced.endsWith('END:VCARD\r\n')).toBe(true)
  })

  it('a tel: URI replaced becomes a text value', () => {
    const replaced = replaceCardFields(v4, { phone: '+1 555 0222' })
    expect(readCardFields(replaced).phone).toBe('+1 555 0222')
    expect(otherLines(replaced)).toEqual(otherLines(v4))
  })

  it('property: random values round-trip through replace / read and the import mapping; other properties survive', () => {
    fc.assert(
      fc.property(fc.constantFrom(v3, v4), fieldsArb, (card, fields: CardFields) => {
        const replaced = replaceCardFields(card, fields)
        // A primary removed: the next one leads (as updateContact's lists do).
        const next = card === v3 ? { email: 'other@example.com', phone: '+1 555 0199' } : { email: 'bob@work.example', phone: null }
        expect(readCardFields(replaced)).toEqual({ name: fields.name, email: fields.email ?? next.email, phone: fields.phone ?? next.phone })
        expect(otherLines(replaced)).toEqual(otherLines(card))
        // Twice: the same card (idempotent).
        if (fields.email && fields.phone) expect(replaceCardFields(replaced, fields)).toBe(replaced)
        const mapped = finishContact(draftOfCard(parseCard(replaced), 1, '', () => 'x'))
        if (mapped.kind !== 'contact') throw new Error(mapped.reason)
        expect(mapped.name).toBe(fields.name)
        if (fields.email) expect(mapped.emails[0]).toBe(fields.email)
        if (fields.phone) expect(mapped.phones[0]).toBe(fields.phone)
      }),
      { numRuns: 300 },
    )
  })

  it('property: a new card reads back its fields', () => {
    fc.assert(
      fc.property(fc.uuid(), fieldsArb, (uid, fields) => {
        const card = newCard(uid, fields)
        expect(readCardFields(card)).toEqual(fields)
        expect(parseCard(card).getFirstPropertyValue('uid')).toBe(uid)
      }),
    )
  })

  it('decides a write-back after a 412: local value applied when the server kept the base, server wins otherwise', () => {
    const base = { name: 'Ann', email: 'a@x.com', phone: '1 2 3' }
    const local = { name: 'Annie', email: 'ann@x.com', phone: '4 5 6' }
    const server = { name: 'Anna', email: 'A@X.com', phone: '4 5 6' }
    expect(decideWriteBack(['name', 'email', 'phone'], base, local, server)).toEqual({
      write: { email: 'ann@x.com' },
      conflicts: [{ field: 'name', localValue: 'Annie', remoteValue: 'Anna' }],
      adopt: { name: 'Anna' },
    })
    expect(decideWriteBack(['phone'], base, local, server)).toEqual({ write: {}, conflicts: [], adopt: {} })
  })
})
