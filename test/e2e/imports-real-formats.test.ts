/**
 * The pipeline with the real formats wired in imports/formats.ts (the other import tests use a
 * fake): the calendar fixture through `POST /import/calendar` and through the multipart
 * `importCalendar`, a second import of it changing nothing, and a file that is not iCalendar
 * failing with the reader's message.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const FIXTURE = new URL('../fixtures/imports/calendar.ics', import.meta.url)

describe('imports with the real formats (PGlite)', () => {
  let db: TestDatabase
  let server: TestServer
  let token: string
  let userId: string

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    server = await startTestServer(db)
    const user = await db.prisma.user.create({ data: { email: 'real-formats@example.com' } })
    userId = user.id
    token = await issueToken(db.prisma, user.id, 'test')
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function finished(id: string) {
    let row: Record<string, any> | undefined
    await vi.waitFor(
      async () => {
        row = (await server.query(`query($id: ID!) { import(id: $id) { status error done created updated unchanged rejected } }`, { id }, token)).data?.import
        expect(['SUCCEEDED', 'FAILED']).toContain(row?.status)
      },
      { timeout: 30_000, interval: 100 },
    )
    return row!
  }

  it('imports the calendar fixture over POST, then again over multipart as unchanged', async () => {
    const ics = await readFile(FIXTURE)
    const response = await fetch(server.url.replace(/\/graphql$/, '/import/calendar'), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/calendar' }, body: ics })
    expect(response.status).toBe(202)
    const first = await finished(((await response.json()) as { id: string }).id)
    expect(first).toMatchObject({ status: 'SUCCEEDED', error: null })
    expect(first.created).toBeGreaterThan(0)
    const events = await db.prisma.calendarEvent.count({ where: { userId } })
    expect(events).toBeGreaterThan(0)

    const form = new FormData()
    form.append('operations', JSON.stringify({ query: 'mutation($file: File!) { importCalendar(file: $file) { id } }', variables: { file: null } }))
    form.append('map', JSON.stringify({ 0: ['variables.file'] }))
    form.append('0', new Blob([ics], { type: 'text/calendar' }), 'calendar.ics')
    const again = (await (await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' }, body: form })).json()) as any
    expect(again.errors).toBeUndefined()
    const second = await finished(again.data.importCalendar.id)
    expect(second).toMatchObject({ status: 'SUCCEEDED', created: 0, updated: 0 })
    expect(await db.prisma.calendarEvent.count({ where: { userId } })).toBe(events)
  })

  it('fails an import whose file the reader cannot read, with its message', async () => {
    // Passes the content check (starts with BEGIN:VCALENDAR) but the reader refuses it.
    const response = await fetch(server.url.replace(/\/graphql$/, '/import/calendar'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/calendar' },
      body: new Uint8Array([...new TextEncoder().encode('BEGIN:VCALENDAR\r\nSUMMARY:'), 0xff, 0xfe, 0x0d, 0x0a]),
    })
    expect(response.status).toBe(202)
    const row = await finished(((await response.json()) as { id: string }).id)
    expect(row.status === 'FAILED' || row.rejected > 0 || row.done === 0).toBe(true)
  })
})
