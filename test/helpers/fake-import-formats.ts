/**
 * A tiny line-per-record format for testing the import pipeline without the real readers and
 * writers: each line `name;email` is a contact (externalId = email), a line starting with `!`
 * is a rejected record, a line `FAIL` makes the reader throw (a file it cannot read). The file
 * still has to pass the content check: use `?format=csv` (the first line has a `;`) or a
 * `BEGIN:VCARD` first line (skipped). The writer keeps what it applied in memory, by
 * externalId, so applying the same record again is `unchanged` (idempotent, like the real ones).
 */
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import type { ImportFormatHandler, ImportFormats } from '../../src/imports/run-import.ts'
import type { ImportedContact, ImportedEvent, Rejected } from '../../src/imports/types.ts'

export interface FakeStore {
  /** userId -> externalId -> name */
  applied: Map<string, Map<string, string>>
  /** Batches applied, in order, with their sizes. */
  batches: number[]
  /** Called before each batch; throw to simulate a failing writer. */
  beforeApply?: (batch: number) => void | Promise<void>
}

/** The lines of a stream of chunks, decoded as UTF-8 a chunk at a time. */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let rest = ''
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true })
    const parts = rest.split(/\r?\n/)
    rest = parts.pop()!
    yield* parts
  }
  rest += decoder.decode()
  if (rest) yield rest
}

function contact(position: number, name: string, email: string): ImportedContact {
  return {
    kind: 'contact',
    position,
    externalId: email,
    name,
    emails: [email],
    phones: [],
    linkedIn: null,
    instagram: null,
    xHandle: null,
    otherSocialMedia: null,
    location: null,
    timezone: null,
    customNotes: null,
    birthday: null,
    groups: [],
    source: 'CSV',
  }
}

export function fakeImportFormats(store: FakeStore = { applied: new Map(), batches: [] }): ImportFormats & { store: FakeStore } {
  const contacts: ImportFormatHandler<ImportedContact> = {
    async *read(chunks) {
      let position = 0
      for await (const line of lines(chunks)) {
        position++
        if (line === '' || line === 'name;email' || line.toUpperCase().startsWith('BEGIN:') || line.toUpperCase().startsWith('END:')) continue
        if (line === 'FAIL') throw new Error(`line ${position} is not a record`)
        if (line.startsWith('!')) {
          yield { kind: 'rejected', position, field: 'line', reason: 'starts with !', raw: line } satisfies Rejected
          continue
        }
        const [name, email] = line.split(';')
        yield contact(position, name ?? '', email ?? `${position}@example.com`)
      }
    },
    async apply(_prisma: PrismaClient, userId, records) {
      await store.beforeApply?.(store.batches.length)
      store.batches.push(records.length)
      let byId = store.applied.get(userId)
      if (!byId) store.applied.set(userId, (byId = new Map()))
      const counts = { created: 0, updated: 0, unchanged: 0, rejected: 0 }
      for (const record of records) {
        const before = byId.get(record.externalId)
        if (before === undefined) counts.created++
        else if (before === record.name) counts.unchanged++
        else counts.updated++
        byId.set(record.externalId, record.name)
      }
      return { counts, rejected: [] }
    },
  }
  const calendar: ImportFormatHandler<ImportedEvent> = {
    async *read(chunks) {
      let position = 0
      for await (const line of lines(chunks)) {
        position++
        if (!line.startsWith('UID:')) continue
        yield { kind: 'event', position, uid: line.slice(4), title: null, seriesIcs: null, startsAt: new Date(0), endsAt: new Date(3600_000) } satisfies ImportedEvent
      }
    },
    async apply(_prisma, _userId, records) {
      return { counts: { created: records.length, updated: 0, unchanged: 0, rejected: 0 }, rejected: [] }
    },
  }
  return { CONTACTS: contacts, CALENDAR: calendar, store }
}

/** A contacts file of `n` lines `Contact i;i@example.com`, after a header line with a `;`. */
export function contactLines(n: number, from = 0): string {
  const out = ['name;email']
  for (let i = from; i < from + n; i++) out.push(`Contact ${i};c${i}@example.com`)
  return `${out.join('\n')}\n`
}
