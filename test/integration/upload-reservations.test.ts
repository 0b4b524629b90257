/**
 * Issue 12 (hostile review): the limits on imports in flight count uploads still arriving. Before, the
 * Import row appeared only after the first 1 MiB and said FAILED while uploading, so any number of held-open
 * uploads passed the "3 in flight" check. Now each upload reserves its row first, under a lock on the user.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { storeUpload, UploadRefused, type UploadLimits } from '../../src/imports/upload.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'

const kinds = await availableDatabaseKinds()
const LIMITS: UploadLimits = { maxBytes: 10_000_000, maxInFlight: 3, maxPerDay: 100 }

describe.each(kinds)('upload reservations on %s', (kind) => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase(kind)
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('refuses the fourth of four uploads held open at once with 429, and lets the three finish', async () => {
    const userId = (await db.prisma.user.create({ data: { email: `held-${kind}@example.com` } })).id
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    async function* heldOpen(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Held\r\n')
      await released
      yield new TextEncoder().encode('END:VCARD\r\n')
    }
    const outcomes: (string | number)[] = []
    const uploads = Array.from({ length: 4 }, () =>
      storeUpload(db.prisma, { userId, kind: 'CONTACTS', format: 'vcard', body: heldOpen(), now: new Date() }, LIMITS).then(
        () => outcomes.push('stored'),
        (error: unknown) => outcomes.push(error instanceof UploadRefused ? error.status : String(error)),
      ),
    )
    // While three bodies are still arriving, the fourth is refused.
    await vi.waitFor(() => expect(outcomes).toEqual([429]), { timeout: 10_000, interval: 20 })
    release()
    await Promise.all(uploads)
    expect(outcomes.sort()).toEqual([429, 'stored', 'stored', 'stored'])
    expect(await db.prisma.import.count({ where: { userId, status: 'QUEUED' } })).toBe(3)
  })
})
