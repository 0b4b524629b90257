/**
 * The writes of a contacts import (issue 12), on PGlite and PostgreSQL: each fixture read and applied
 * twice (the second time all unchanged), dedupe by e-mail (a contact typed in by hand too) and by phone
 * in different formats, two cards of one person in a batch, the fields the user owns never overwritten,
 * the same external id under two users as two contacts, the quotas (contacts and groups), and a batch
 * that fails leaving nothing (one transaction).
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WriteDeps } from '../../src/changes/announce.ts'
import { createContact, logInteraction, updateContact } from '../../src/contacts/contact-writes.ts'
import { applyContactBatch } from '../../src/imports/contacts/apply-batch.ts'
import { readContactRecords } from '../../src/imports/contacts/read-contacts.ts'
import type { ContactFormat, ImportCounts, ImportedContact } from '../../src/imports/types.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()
const NOW = new Date('2026-11-30T09:00:00.000Z')
const fixture = (name: string) => readFile(new URL(`../fixtures/imports/${name}`, import.meta.url))

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

const card = (uid: string, lines: string[]) => ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, ...lines, 'END:VCARD', ''].join('\r\n')

describe.each(kinds)('contact import writes on %s', (kind) => {
  let db: TestDatabase
  let users = 0
  let deps: WriteDeps
  beforeAll(async () => {
    db = await openTestDatabase(kind)
    deps = { prisma: db.prisma, announce: () => {} }
  })
  afterAll(async () => {
    await db?.destroy()
  })
  const newUser = async () => (await db.prisma.user.create({ data: { email: `import${++users}-${kind}@example.com` } })).id

  /** Reads `file` and applies it in batches of `batchSize`, as the job does; the sums of the counts. */
  async function importFile(userId: string, file: Uint8Array | string, format: ContactFormat, options: { maxContacts?: number; maxGroups?: number; batchSize?: number } = {}) {
    const bytes = typeof file === 'string' ? new TextEncoder().encode(file) : file
    const total: ImportCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 }
    const rejected: unknown[] = []
    let batch: ImportedContact[] = []
    const flush = async () => {
      const result = await applyContactBatch({ prisma: db.prisma }, userId, batch, NOW, { maxContacts: options.maxContacts ?? 1000, maxGroups: options.maxGroups })
      for (const key of Object.keys(total) as (keyof ImportCounts)[]) total[key] += result.counts[key]
      rejected.push(...result.rejected)
      batch = []
    }
    for await (const record of readContactRecords(once(bytes), format)) {
      if (record.kind === 'rejected') {
        total.rejected++
        rejected.push(record)
        continue
      }
      batch.push(record)
      if (batch.length >= (options.batchSize ?? 500)) await flush()
    }
    await flush()
    return { counts: total, rejected }
  }

  const contactsOf = (userId: string) => db.prisma.contact.findMany({ where: { userId }, orderBy: { name: 'asc' } })

  it('imports every fixture once: a second import of the same file changes nothing', async () => {
    const files: [string, ContactFormat, number][] = [
      ['apple.vcf', 'vcard', 2],
      ['google.vcf', 'vcard', 2],
      ['outlook.vcf', 'vcard', 2],
      ['vcard4.vcf', 'vcard', 2],
      ['google-contacts.csv', 'csv', 4],
      ['outlook-contacts.csv', 'csv', 2],
    ]
    for (const [name, format, count] of files) {
      const userId = await newUser()
      const bytes = await fixture(name)
      const first = await importFile(userId, bytes, format)
      expect(first.counts.created, name).toBe(count)
      const before = await contactsOf(userId)
      expect(before).toHaveLength(count)
      const second = await importFile(userId, bytes, format, { batchSize: 1 })
      expect(second.counts, name).toEqual({ created: 0, updated: 0, unchanged: count, rejected: first.counts.rejected })
      expect(await contactsOf(userId), name).toEqual(before)
    }
  })

  it('stores every mapped field, due from now, with groups created from the labels', async () => {
    const userId = await newUser()
    await importFile(userId, await fixture('apple.vcf'), 'vcard')
    const ada = await db.prisma.contact.findFirstOrThrow({ where: { userId, name: 'Ada Marie Example' } })
    expect(ada).toMatchObject({
      externalId: '6B29FC40-CA47-1067-B31D-00DD010662DA',
      email: 'ada@example.com',
      phone: '+49 30 1234567',
      emails: ['ada@example.com', 'ada.work@example.org'],
      phones: ['+49 30 1234567', '(030) 7654321'],
      matchKeys: ['email:ada@example.com', 'email:ada.work@example.org', 'tel:+49301234567', 'tel:0307654321'],
      linkedIn: 'http://www.linkedin.com/in/ada-example',
      instagram: 'https://www.instagram.com/ada.example',
      xHandle: 'http://twitter.com/adaexample',
      otherSocialMedia: { HomePage: 'https://ada.example.com' },
      location: 'Musterstraße 1, Berlin, 10115, Germany',
      customNotes: 'Met at the conference in Lisbon, 2023.\nLikes climbing.',
      birthday: '--04-15',
      tags: ['Friends', 'Climbing'],
      source: 'VCARD',
      nextDueAt: NOW,
      createdAt: NOW,
      dunbarCircle: null,
      frequencyPreference: null,
    })
    const groups = await db.prisma.group.findMany({ where: { userId }, orderBy: { name: 'asc' } })
    expect(groups.map((group) => group.name)).toEqual(['Climbing', 'Friends'])
    expect([...ada.groupIds].sort()).toEqual(groups.map((group) => group.id).sort())
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { contactCount: true, groupCount: true } })).toEqual({ contactCount: 2, groupCount: 2 })
  })

  it('finds a contact by e-mail (one typed in by hand too) and by phone in another format, never doubling it', async () => {
    const userId = await newUser()
    const typed = await createContact(deps, userId, { name: 'Typed By Hand', email: 'Grace@Example.com' }, NOW)
    await importFile(userId, card('uid-phone-1', ['FN:Phone Person', 'TEL:+49 30 1234567']), 'vcard')
    const result = await importFile(
      userId,
      card('uid-grace', ['FN:Grace Example', 'EMAIL:grace@example.com', 'EMAIL:grace@work.example.com']) + card('uid-phone-2', ['FN:Phone Person', 'TEL:0049301234567', 'EMAIL:phone@example.com']),
      'vcard',
    )
    expect(result.counts).toEqual({ created: 0, updated: 2, unchanged: 0, rejected: 0 })
    const all = await contactsOf(userId)
    expect(all).toHaveLength(2)
    expect(all.find((c) => c.id === typed.id)).toMatchObject({
      name: 'Grace Example',
      email: 'Grace@Example.com',
      emails: ['Grace@Example.com', 'grace@work.example.com'],
      externalId: 'uid-grace',
      source: 'MANUAL',
    })
    expect(all.find((c) => c.id !== typed.id)).toMatchObject({ externalId: 'uid-phone-1', phones: ['+49 30 1234567', '0049301234567'], emails: ['phone@example.com'] })
  })

  it('merges two cards of one person in a batch into one contact', async () => {
    const userId = await newUser()
    const result = await importFile(userId, card('a', ['FN:Same Person', 'EMAIL:same@example.com', 'CATEGORIES:One']) + card('b', ['FN:Same Person', 'EMAIL:SAME@example.com', 'TEL:+1 555 010 0000', 'CATEGORIES:Two']), 'vcard')
    expect(result.counts).toEqual({ created: 1, updated: 1, unchanged: 0, rejected: 0 })
    const [only, ...rest] = await contactsOf(userId)
    expect(rest).toEqual([])
    expect(only).toMatchObject({ emails: ['same@example.com'], phones: ['+1 555 010 0000'], tags: ['One', 'Two'], externalId: 'a' })
  })

  it('never overwrites what the user owns: circle, frequency, their notes, last contact (and so nextDueAt)', async () => {
    const userId = await newUser()
    await importFile(userId, card('owned', ['FN:Owned Person', 'EMAIL:owned@example.com', 'NOTE:from the file']), 'vcard')
    const contact = await db.prisma.contact.findFirstOrThrow({ where: { userId } })
    await updateContact(deps, userId, contact.id, { dunbarCircle: 'CLOSE', frequencyPreference: 'MONTHLY', customNotes: 'my own words', name: 'My Name For Them' }, NOW)
    const touched = await logInteraction(deps, userId, contact.id, { occurredAt: new Date('2026-11-20T00:00:00Z') }, NOW)
    const same = await importFile(userId, card('owned', ['FN:Owned Person', 'EMAIL:owned@example.com', 'NOTE:from the file']), 'vcard')
    expect(same.counts.unchanged).toBe(1)
    expect((await db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).name).toBe('My Name For Them')
    const changed = await importFile(userId, card('owned', ['FN:Owned Person Renamed', 'EMAIL:owned@example.com', 'NOTE:a new note', 'TZ:Asia/Tokyo']), 'vcard')
    expect(changed.counts.updated).toBe(1)
    expect(await db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).toMatchObject({
      name: 'Owned Person Renamed',
      timezone: 'Asia/Tokyo',
      dunbarCircle: 'CLOSE',
      frequencyPreference: 'MONTHLY',
      customNotes: 'my own words',
      lastContactDate: new Date('2026-11-20T00:00:00Z'),
      nextDueAt: touched.nextDueAt,
    })
  })

  it('keeps users apart: the same external id under two users is two contacts', async () => {
    const [alice, bob] = [await newUser(), await newUser()]
    const file = card('shared-uid', ['FN:Shared', 'EMAIL:shared@example.com'])
    expect((await importFile(alice, file, 'vcard')).counts.created).toBe(1)
    expect((await importFile(bob, file, 'vcard')).counts.created).toBe(1)
    const rows = await db.prisma.contact.findMany({ where: { externalId: 'shared-uid', userId: { in: [alice, bob] } } })
    expect(rows.map((row) => row.userId).sort()).toEqual([alice, bob].sort())
    // Bob's re-import does not see Alice's contact, nor touch it.
    await importFile(bob, card('shared-uid', ['FN:Shared Renamed', 'EMAIL:shared@example.com']), 'vcard')
    expect((await db.prisma.contact.findFirstOrThrow({ where: { userId: alice } })).name).toBe('Shared')
  })

  it('creates up to the contacts quota and rejects the rest with QUOTA_EXCEEDED; labels past the groups quota are reported', async () => {
    const userId = await newUser()
    const file = [1, 2, 3].map((n) => card(`q${n}`, [`FN:Quota ${n}`, `EMAIL:q${n}@example.com`, `CATEGORIES:G${n}`])).join('')
    const result = await importFile(userId, file, 'vcard', { maxContacts: 2, maxGroups: 1 })
    expect(result.counts).toEqual({ created: 2, updated: 0, unchanged: 0, rejected: 1 })
    expect(result.rejected).toEqual([expect.objectContaining({ position: 3, reason: expect.stringContaining('QUOTA_EXCEEDED') })])
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { contactCount: true, groupCount: true } })).toEqual({ contactCount: 2, groupCount: 1 })
    expect(await db.prisma.group.count({ where: { userId } })).toBe(1)
  })

  it('writes nothing of a batch that fails (one transaction), quota included', async () => {
    const userId = await newUser()
    const good: ImportedContact = {
      kind: 'contact',
      position: 1,
      externalId: 'fine',
      name: 'Fine',
      emails: ['fine@example.com'],
      phones: [],
      linkedIn: null,
      instagram: null,
      xHandle: null,
      otherSocialMedia: null,
      location: null,
      timezone: null,
      customNotes: null,
      birthday: null,
      groups: ['Kept Out'],
      source: 'VCARD',
    }
    // A NUL character PostgreSQL cannot store (the reader never yields one: this stands for any failure mid-batch).
    const bad: ImportedContact = { ...good, position: 2, externalId: 'bad', name: 'Bad\u0000Name', emails: ['bad@example.com'] }
    await expect(applyContactBatch({ prisma: db.prisma }, userId, [good, bad], NOW, { maxContacts: 10 })).rejects.toThrow()
    expect(await db.prisma.contact.count({ where: { userId } })).toBe(0)
    expect(await db.prisma.group.count({ where: { userId } })).toBe(0)
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { contactCount: true, groupCount: true } })).toEqual({ contactCount: 0, groupCount: 0 })
  })
})
