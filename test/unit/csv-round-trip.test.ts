/**
 * The Google CSV this app exports (src/exports/google-csv.ts) read back by the contacts CSV reader
 * (issue 12): every field comes back, including the two Google has no column for, written as
 * "Custom Field n - Label/Value": `Time Zone` -> timezone (validated: an unknown zone is a dropped
 * field, not a rejected row) and `UID` -> externalId (so a re-import matches the same contact).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contactToCsvCells, csvRows, googleCsvHeader } from '../../src/exports/google-csv.ts'
import type { ExportContact } from '../../src/exports/vcard.ts'
import { readContactRecords } from '../../src/imports/contacts/read-contacts.ts'
import type { ImportedContact, Rejected } from '../../src/imports/types.ts'

const counts = { emails: 2, phones: 2, websites: 4 }

const base: ExportContact = {
  id: 'c1',
  name: 'Ada Example',
  email: null,
  phone: null,
  emails: ['ada@example.com', 'ada.work@example.org'],
  phones: ['+1 555 0100'],
  linkedIn: 'https://www.linkedin.com/in/ada-example',
  instagram: 'https://instagram.com/ada.example',
  xHandle: 'https://x.com/adaexample',
  otherSocialMedia: { mastodon: 'https://mastodon.example/@ada' },
  location: 'Lisbon, Portugal',
  timezone: 'Europe/Lisbon',
  customNotes: 'Met at the conference; "likes" tea, and commas',
  tags: ['friends'],
  groupIds: ['g1'],
  birthday: '--07-14',
  externalId: 'uid-ada-1',
}

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text)
}

async function readBack(contactsToWrite: ExportContact[], groups = new Map([['g1', 'friends']])): Promise<(ImportedContact | Rejected)[]> {
  const text = csvRows([googleCsvHeader(counts), ...contactsToWrite.map((contact) => contactToCsvCells(contact, groups, counts))])
  const out: (ImportedContact | Rejected)[] = []
  for await (const record of readContactRecords(once(text), 'csv')) out.push(record)
  return out
}

describe('Google CSV export -> CSV import', () => {
  it('reads every field back, with Custom Field "Time Zone" as timezone and "UID" as externalId', async () => {
    const [record] = await readBack([base])
    expect(record).toMatchObject({
      kind: 'contact',
      externalId: 'uid-ada-1',
      name: 'Ada Example',
      emails: base.emails,
      phones: base.phones,
      linkedIn: base.linkedIn,
      instagram: base.instagram,
      xHandle: base.xHandle,
      otherSocialMedia: base.otherSocialMedia,
      location: base.location,
      timezone: 'Europe/Lisbon',
      customNotes: base.customNotes,
      birthday: '--07-14',
      groups: ['friends'],
    })
    expect((record as ImportedContact).dropped ?? []).toEqual([])
  })

  it('uses the contact id as UID when it has no externalId, and no Time Zone cell gives null', async () => {
    const [record] = await readBack([{ ...base, externalId: null, timezone: null }])
    expect(record).toMatchObject({ kind: 'contact', externalId: 'c1', timezone: null })
  })

  it('an unknown time zone in the custom field is a dropped field, the row is still imported', async () => {
    const header = 'Name,E-mail 1 - Label,E-mail 1 - Value,Custom Field 1 - Label,Custom Field 1 - Value,Custom Field 2 - Label,Custom Field 2 - Value\r\n'
    const row = 'Bo Example,Other,bo@example.com,Time Zone,Mars/Olympus,UID,uid-bo\r\n'
    const records: (ImportedContact | Rejected)[] = []
    for await (const record of readContactRecords(once(header + row), 'csv')) records.push(record)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ kind: 'contact', externalId: 'uid-bo', timezone: null })
    expect((records[0] as ImportedContact).dropped?.map((d) => d.field)).toContain('timezone')
  })

  it('custom fields with other labels (in any order) are not read as UID or Time Zone', async () => {
    const header = 'Name,E-mail 1 - Value,Custom Field 1 - Label,Custom Field 1 - Value,Custom Field 2 - Label,Custom Field 2 - Value\r\n'
    const row = 'Cy Example,cy@example.com,Nickname,Cyc,time zone,America/New_York\r\n'
    const records: (ImportedContact | Rejected)[] = []
    for await (const record of readContactRecords(once(header + row), 'csv')) records.push(record)
    expect(records[0]).toMatchObject({ kind: 'contact', timezone: 'America/New_York' })
    // No UID: the identity is the row's hash.
    expect((records[0] as ImportedContact).externalId).toMatch(/^csv:/)
  })

  it('fast-check: any exported UID and zone come back as written', async () => {
    const zones = ['Europe/Lisbon', 'America/New_York', 'Asia/Kolkata', 'UTC', null]
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() === s && /^[\x21-\x7e ]+$/.test(s)),
        fc.constantFrom(...zones),
        async (uid, zone) => {
          const [record] = await readBack([{ ...base, externalId: uid, timezone: zone }])
          expect(record).toMatchObject({ kind: 'contact', externalId: uid, timezone: zone })
        },
      ),
      { numRuns: 100 },
    )
  })
})
