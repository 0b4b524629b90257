/**
 * Issue 12, the pipeline end to end on a real server, with the line-per-record fake format (the
 * real readers and writers are tested on their own): `POST /import/*` and its refusals, the
 * GraphQL Import API (import, imports, errors, importProgress), the streaming multipart
 * `importContacts` / `importCalendar`, cross-user isolation, ONE coalesced SuggestionsUpdated for
 * a 2,000-contact import, and properties: random bodies, content types and query strings to
 * `POST /import/*` and random multipart bodies to /graphql never give a 5xx or
 * INTERNAL_SERVER_ERROR, and never leave a half-written Import.
 */
import { encodeGlobalID } from '@pothos/plugin-relay'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { UPLOAD_INTERRUPTED } from '../../src/imports/upload.ts'
import { results, wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { contactLines, fakeImportFormats } from '../helpers/fake-import-formats.ts'
import { createUserWithContacts } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const MAX = 3 * 1024 * 1024
const IMPORT_FIELDS = 'id status format total done created updated unchanged rejected error createdAt startedAt finishedAt'

describe.each(kinds)('the import API on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  const formats = fakeImportFormats()
  let base: string
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db, { env: { IMPORT_MAX_BYTES: String(MAX) }, importFormats: formats, importRun: { batchSize: 200 } })
    base = server.url.replace(/\/graphql$/, '')
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `imports${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }

  const post = (path: string, body: BodyInit | null, headers: Record<string, string> = {}, method = 'POST') =>
    fetch(`${base}${path}`, { method, headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit)

  async function importOf(token: string, id: string) {
    return server.query<{ import: Record<string, any> }>(`query($id: ID!) { import(id: $id) { ${IMPORT_FIELDS} } }`, { id }, token)
  }
  async function finished(token: string, id: string) {
    let row: Record<string, any> | undefined
    await vi.waitFor(
      async () => {
        row = (await importOf(token, id)).data?.import
        expect(['SUCCEEDED', 'FAILED']).toContain(row?.status)
      },
      { timeout: 20_000, interval: 50 },
    )
    return row!
  }

  /** A GraphQL multipart request (operations, map, file) as the spec writes it. */
  function multipart(operations: unknown, file: { name?: string; type?: string; content: string } | null, headers: Record<string, string>, map: unknown = { 0: ['variables.file'] }) {
    const form = new FormData()
    form.append('operations', JSON.stringify(operations))
    form.append('map', JSON.stringify(map))
    if (file) form.append('0', new Blob([file.content], { type: file.type ?? 'text/vcard' }), file.name ?? 'contacts.vcf')
    return fetch(server.url, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1', ...headers }, body: form })
  }
  const IMPORT_CONTACTS = { query: `mutation($file: File!) { importContacts(file: $file) { ${IMPORT_FIELDS} } }`, variables: { file: null } }

  it('POST /import/contacts stores the body, answers 202 with the Import id, and the job runs it', async () => {
    const alice = await newUser()
    const response = await post('/import/contacts?format=csv', `${contactLines(450)}!not a contact\n`, { authorization: `Bearer ${alice.token}`, 'content-type': 'text/plain' })
    expect(response.status).toBe(202)
    const { id } = (await response.json()) as { id: string }
    expect(Buffer.from(id, 'base64').toString()).toMatch(/^Import:/)
    const row = await finished(alice.token, id)
    expect(row).toMatchObject({ status: 'SUCCEEDED', format: 'csv', done: 451, total: 451, created: 450, rejected: 1, error: null })
    expect(row.startedAt).not.toBeNull()
    const errors = await server.query(`query($id: ID!) { import(id: $id) { errors(first: 5) { edges { node { position field reason raw } } } } }`, { id }, alice.token)
    expect(errors.data!.import.errors.edges).toEqual([{ node: { position: 452, field: 'line', reason: 'starts with !', raw: '!not a contact' } }])
    expect(await db.prisma.importChunk.count()).toBe(0)
  })

  it('refuses with a JSON error and its code: 401, 405, 415, 400, 413, 429', async () => {
    const alice = await newUser()
    const auth = { authorization: `Bearer ${alice.token}` }
    const cases: [Response, number, string][] = [
      [await post('/import/contacts', contactLines(2), { 'content-type': 'text/csv' }), 401, 'UNAUTHENTICATED'],
      [await post('/import/contacts', contactLines(2), { authorization: 'Bearer prm_not_a_token', 'content-type': 'text/csv' }), 401, 'UNAUTHENTICATED'],
      [await post('/import/contacts', null, auth, 'GET'), 405, 'BAD_REQUEST'],
      [await post('/import/contacts', contactLines(2), { ...auth, 'content-type': 'application/json' }), 415, 'BAD_USER_INPUT'],
      [await post('/import/calendar', 'BEGIN:VCARD\n', { ...auth, 'content-type': 'text/vcard' }), 415, 'BAD_USER_INPUT'],
      [await post('/import/contacts', 'BEGIN:VCALENDAR\n', { ...auth, 'content-type': 'text/vcard' }), 415, 'BAD_USER_INPUT'],
      [await post('/import/contacts', new Uint8Array([0x42, 0, 1, 2, 0xff]), { ...auth, 'content-type': 'text/csv' }), 415, 'BAD_USER_INPUT'],
      [await post('/import/contacts?format=pdf', contactLines(2), { ...auth, 'content-type': 'text/csv' }), 415, 'BAD_USER_INPUT'],
      [await post('/import/contacts', '', { ...auth, 'content-type': 'text/csv' }), 400, 'BAD_USER_INPUT'],
      [await post('/import/contacts', 'a;b\n' + 'x'.repeat(MAX), { ...auth, 'content-type': 'text/csv' }), 413, 'BAD_REQUEST'],
    ]
    // Past the limit without a Content-Length: cut while it streams.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('a;b\n'))
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x41))
        controller.close()
      },
    })
    cases.push([await post('/import/contacts', chunked, { ...auth, 'content-type': 'text/csv' }), 413, 'BAD_REQUEST'])
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status)
      expect(response.headers.get('content-type')).toMatch(/application\/json/)
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] }
      expect(body.errors[0]!.extensions.code).toBe(code)
      expect(body.errors[0]!.message.length).toBeGreaterThan(0)
    }
    // Nothing half-written was left behind.
    expect(await db.prisma.import.count({ where: { userId: alice.id } })).toBe(0)
    // Three imports in flight: the fourth is refused until one ends.
    for (let i = 0; i < 3; i++) await db.prisma.import.create({ data: { userId: alice.id, kind: 'CONTACTS', format: 'csv', status: 'RUNNING', byteSize: 1 } })
    const busy = await post('/import/contacts', contactLines(2), { ...auth, 'content-type': 'text/csv' })
    expect(busy.status).toBe(429)
    expect(busy.headers.get('retry-after')).toBe('10')
    expect(((await busy.json()) as any).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 3 })
  })

  it('lists the viewer\'s imports newest first with signed cursors, and hides another user\'s (NOT_FOUND)', async () => {
    const alice = await newUser()
    const bob = await newUser()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const response = await post('/import/contacts?format=csv', contactLines(3, i * 10), { authorization: `Bearer ${alice.token}` })
      ids.push(((await response.json()) as { id: string }).id)
      await finished(alice.token, ids.at(-1)!)
    }
    const first = await server.query('{ imports(first: 2) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }', {}, alice.token)
    expect(first.data!.imports.edges.map((edge: any) => edge.node.id)).toEqual([ids[2], ids[1]])
    expect(first.data!.imports.pageInfo.hasNextPage).toBe(true)
    const second = await server.query('query($a: String) { imports(first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }', { a: first.data!.imports.pageInfo.endCursor }, alice.token)
    expect(second.data!.imports.edges.map((edge: any) => edge.node.id)).toEqual([ids[0]])
    expect(second.data!.imports.pageInfo.hasNextPage).toBe(false)
    // Bob: his list is empty, alice's id is NOT_FOUND everywhere, alice's cursor is refused.
    expect((await server.query('{ imports { edges { node { id } } } }', {}, bob.token)).data!.imports.edges).toEqual([])
    expect((await importOf(bob.token, ids[0]!)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect((await server.query('query($id: ID!) { node(id: $id) { id } }', { id: ids[0] }, bob.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    const cursor = await server.query('query($a: String) { imports(after: $a) { edges { node { id } } } }', { a: first.data!.imports.pageInfo.endCursor }, bob.token)
    expect(cursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' })
    const bobsClient = wsClient(server.url, bob.token)
    const progress = await results(bobsClient, { query: `subscription($id: ID!) { importProgress(id: $id) { id } }`, variables: { id: ids[0] } }).catch((error: unknown) => error)
    await bobsClient.dispose()
    expect(JSON.stringify(progress)).toMatch(/NOT_FOUND/)
    // The owner sees it through node(id) too.
    expect((await server.query('query($id: ID!) { node(id: $id) { ... on Import { status } } }', { id: ids[0] }, alice.token)).data).toEqual({ node: { status: 'SUCCEEDED' } })
  })

  it('importProgress sends the import after each batch and ends when it finished', async () => {
    const alice = await newUser()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    formats.store.beforeApply = async () => gate
    try {
      const response = await post('/import/contacts?format=csv', contactLines(1000), { authorization: `Bearer ${alice.token}` })
      const { id } = (await response.json()) as { id: string }
      const client = wsClient(server.url, alice.token)
      const events: any[] = []
      const done = results(client, { query: `subscription($id: ID!) { importProgress(id: $id) { id status done created total } }`, variables: { id } }, (result) => {
        events.push(result.data?.importProgress)
        return false
      })
      await vi.waitFor(() => expect(events.length).toBeGreaterThan(0))
      expect(events[0]).toMatchObject({ id, done: 0 })
      release()
      const all = await done
      await client.dispose()
      const statuses = all.map((result) => result.data!.importProgress)
      expect(statuses.at(-1)).toMatchObject({ status: 'SUCCEEDED', done: 1000, created: 1000, total: 1000 })
      // Five batches of 200: several progress events between the first and the last, done never going back.
      expect(statuses.length).toBeGreaterThanOrEqual(3)
      const dones = statuses.map((status: any) => status.done)
      expect([...dones].sort((a, b) => a - b)).toEqual(dones)
    } finally {
      formats.store.beforeApply = undefined
      release()
    }
  })

  it('importContacts takes a multipart upload, streams it into storage and answers the QUEUED Import', async () => {
    const alice = await newUser()
    const response = await multipart(IMPORT_CONTACTS, { content: `BEGIN:VCARD\n${contactLines(20)}END:VCARD\n` }, { authorization: `Bearer ${alice.token}` })
    const body = (await response.json()) as any
    expect(body.errors).toBeUndefined()
    expect(body.data.importContacts).toMatchObject({ format: 'vcard', done: 0 })
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED']).toContain(body.data.importContacts.status)
    expect(await finished(alice.token, body.data.importContacts.id)).toMatchObject({ status: 'SUCCEEDED', created: 20 })
    const calendar = await multipart(
      { query: 'mutation($file: File!) { importCalendar(file: $file) { id status format } }', variables: { file: null } },
      { content: 'BEGIN:VCALENDAR\nUID:a\nUID:b\nEND:VCALENDAR\n', type: 'application/octet-stream', name: 'work.ics' },
      { authorization: `Bearer ${alice.token}` },
    )
    expect(((await calendar.json()) as any).data.importCalendar.format).toBe('ics')
  })

  it('refuses bad multipart requests with their codes, keeping nothing', async () => {
    const alice = await newUser()
    const auth = { authorization: `Bearer ${alice.token}` }
    const vcard = { content: 'BEGIN:VCARD\nA;a@example.com\nEND:VCARD\n' }
    const expectRefused = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status)
      const body = (await response.json()) as any
      expect(body.errors[0].extensions.code).toBe(code)
    }
    await expectRefused(await multipart(IMPORT_CONTACTS, vcard, {}), 401, 'UNAUTHENTICATED')
    const noCsrf = new FormData()
    noCsrf.append('operations', JSON.stringify(IMPORT_CONTACTS))
    await expectRefused(await fetch(server.url, { method: 'POST', headers: auth, body: noCsrf }), 403, 'BAD_REQUEST')
    await expectRefused(await multipart(IMPORT_CONTACTS, { ...vcard, content: 'BEGIN:VCALENDAR\n' }, auth), 415, 'BAD_USER_INPUT')
    await expectRefused(await multipart(IMPORT_CONTACTS, { content: 'a;b\n' + 'x'.repeat(MAX), type: 'text/csv' }, auth), 413, 'BAD_REQUEST')
    await expectRefused(await multipart({ query: 'mutation($f: File!) { importCalendar(file: $f) { id } }', variables: {} }, vcard, auth), 400, 'BAD_USER_INPUT')
    await expectRefused(await multipart({ query: '{ me { email } }' }, vcard, auth), 400, 'BAD_USER_INPUT')
    await expectRefused(await multipart(IMPORT_CONTACTS, null, auth), 400, 'BAD_REQUEST')
    await expectRefused(await multipart(IMPORT_CONTACTS, vcard, auth, { 0: ['variables.file'], 1: ['variables.other'] }), 400, 'BAD_REQUEST')
    await expectRefused(await multipart([IMPORT_CONTACTS], vcard, auth), 400, 'BAD_REQUEST')
    // A file for the calendar mutation that is a vCard: 415 before anything is stored.
    await expectRefused(await multipart({ query: 'mutation($file: File!) { importCalendar(file: $file) { id } }', variables: { file: null } }, vcard, auth), 415, 'BAD_USER_INPUT')
    // A valid upload whose operation fails validation: the stored file is deleted when the response is sent.
    const invalid = await multipart({ query: 'mutation($file: File!) { importContacts(file: $file) { nope } }', variables: { file: null } }, vcard, auth)
    expect(((await invalid.json()) as any).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED')
    // A File given as JSON is not an upload.
    const json = await server.query('mutation($f: File!) { importContacts(file: $f) { id } }', { f: { importId: 'x' } }, alice.token)
    expect(json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    await vi.waitFor(async () => expect(await db.prisma.import.count({ where: { userId: alice.id } })).toBe(0))
  })

  it('gives live suggestion subscribers ONE SuggestionsUpdated for a 2,000-contact import', async () => {
    const carol = await createUserWithContacts(db.prisma, `carol${++users}@example.com`, 30)
    const client = wsClient(server.url, carol.token)
    const events: string[] = []
    const stream = (async () => {
      for await (const result of client.iterate<any>({ query: 'subscription { suggestions(input: { maxSuggestions: 5, slots: [] }) { __typename } }' })) {
        events.push(result.data?.suggestions?.__typename ?? `error ${JSON.stringify(result.errors)}`)
      }
    })()
    try {
      await vi.waitFor(() => expect(events).toContain('SuggestionsComplete'), { timeout: 20_000 })
      const response = await post('/import/contacts?format=csv', contactLines(2000), { authorization: `Bearer ${carol.token}` })
      const { id } = (await response.json()) as { id: string }
      expect((await finished(carol.token, id)).created).toBe(2000)
      await vi.waitFor(() => expect(events.filter((event) => event === 'SuggestionsUpdated').length).toBeGreaterThanOrEqual(1), { timeout: 10_000 })
      // No second one trails behind: once the stream is idle again (the gauge), it has sent every update the
      // import caused, so a marker change gives the next one and an extra update of the import would be a third.
      const waiting = async () => Number(/^suggestions_subscriptions_waiting (\S+)$/m.exec(await (await fetch(new URL('/metrics', server.url))).text())?.[1])
      await vi.waitFor(async () => expect(await waiting()).toBe(1), { timeout: 30_000, interval: 50 })
      const marker = (await db.prisma.contact.findFirst({ where: { userId: carol.id }, select: { id: true } }))!
      const logged = await server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: encodeGlobalID('Contact', marker.id) }, carol.token)
      expect(logged.errors).toBeUndefined()
      await vi.waitFor(() => expect(events.filter((event) => event === 'SuggestionsUpdated').length).toBeGreaterThanOrEqual(2), { timeout: 30_000 })
      expect(events.filter((event) => event === 'SuggestionsUpdated')).toHaveLength(2)
    } finally {
      await client.dispose()
      await stream.catch(() => {})
    }
  })

  it('property: random bodies, content types and query strings to POST /import/* never give a 5xx nor leave a half-written Import', async () => {
    const user = await newUser()
    const contentTypes = fc.constantFrom('text/vcard', 'text/x-vcard', 'text/csv', 'text/calendar', 'text/plain', 'application/json', 'multipart/form-data', '', 'text/csv; charset=utf-16', '\u00e9/\u00e9')
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.string({ maxLength: 2000 }).map((text) => new TextEncoder().encode(text)),
      fc.constantFrom('BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n', 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', 'a;b\nc;d\n', '\uFEFFname,email\n', '').map((text) => new TextEncoder().encode(text)),
    )
    const queries = fc.oneof(fc.constant(''), fc.constantFrom('?format=vcard', '?format=csv', '?format=ics', '?format=csv-google', '?format=', '?format=%00', '?format=a&format=b'), fc.string({ maxLength: 30 }).map((text) => `?${encodeURIComponent(text)}`))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/import/contacts', '/import/calendar'), queries, contentTypes, bodies, fc.boolean(), async (path, query, type, body, signedIn) => {
        const headers: Record<string, string> = {}
        if (type) headers['content-type'] = type
        if (signedIn) headers.authorization = `Bearer ${user.token}`
        const response = await post(`${path}${query}`, body, headers)
        expect(response.status, `${path}${query} ${type}`).toBeLessThan(500)
        expect([202, 400, 401, 413, 415, 429]).toContain(response.status)
        const json = (await response.json()) as any
        if (response.status !== 202) expect(json.errors[0].extensions.code).toMatch(/^(UNAUTHENTICATED|BAD_REQUEST|BAD_USER_INPUT|RATE_LIMITED)$/)
        // Never a partly stored upload: every import has a status that tells the truth.
        expect(await db.prisma.import.count({ where: { userId: user.id, error: UPLOAD_INTERRUPTED } })).toBe(0)
        // Keep under the in-flight cap: finished imports leave room.
        await vi.waitFor(async () => expect(await db.prisma.import.count({ where: { userId: user.id, status: { in: ['QUEUED', 'RUNNING'] } } })).toBeLessThan(3), { timeout: 10_000 })
      }),
      { numRuns: 60, seed: 42 },
    )
  })

  it('property: random multipart bodies to /graphql never give a 5xx nor an INTERNAL_SERVER_ERROR', async () => {
    const user = await newUser()
    const part = (name: string, value: string, file?: string) =>
      `Content-Disposition: form-data; name="${name}"${file === undefined ? '' : `; filename="${file}"\r\nContent-Type: text/vcard`}\r\n\r\n${value}\r\n`
    const operations = fc.oneof(
      fc.constant(JSON.stringify(IMPORT_CONTACTS)),
      fc.constant(JSON.stringify({ query: 'mutation($file: File!) { importCalendar(file: $file) { id } }', variables: { file: null } })),
      fc.json({ maxDepth: 2 }),
      fc.string({ maxLength: 200 }),
    )
    const maps = fc.oneof(fc.constant('{"0":["variables.file"]}'), fc.constant('{"0":["variables.file"],"1":["variables.x"]}'), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 50 }))
    const files = fc.oneof(fc.constant('BEGIN:VCARD\nA;a@example.com\nEND:VCARD'), fc.constant('BEGIN:VCALENDAR\nUID:x\nEND:VCALENDAR'), fc.string({ maxLength: 300 }))
    const bodies = fc
      .tuple(operations, maps, files, fc.array(fc.constantFrom('operations', 'map', 'file', 'extra', 'file2'), { minLength: 0, maxLength: 5 }), fc.boolean())
      .map(([ops, map, file, order, truncate]) => {
        const boundary = 'fuzzboundary'
        const sections = (order.length > 0 ? order : ['operations', 'map', 'file']).map((which) =>
          which === 'operations' ? part('operations', ops) : which === 'map' ? part('map', map) : which === 'file' ? part('0', file, 'a.vcf') : which === 'file2' ? part('1', file, 'b.vcf') : part('extra', 'x'),
        )
        let text = `${sections.map((section) => `--${boundary}\r\n${section}`).join('')}--${boundary}--\r\n`
        if (truncate) text = text.slice(0, Math.floor(text.length / 2))
        return { text, boundary }
      })
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom('multipart/form-data; boundary=fuzzboundary', 'multipart/form-data', 'multipart/form-data; boundary=other'), async ({ text }, type) => {
        const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': type, 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${user.token}` }, body: text })
        expect(response.status).toBeLessThan(500)
        const body = await response.text()
        expect(body).not.toMatch(/INTERNAL_SERVER_ERROR/)
        expect(await db.prisma.import.count({ where: { userId: user.id, error: UPLOAD_INTERRUPTED } })).toBe(0)
        await vi.waitFor(async () => expect(await db.prisma.import.count({ where: { userId: user.id, status: { in: ['QUEUED', 'RUNNING'] } } })).toBeLessThan(3), { timeout: 10_000 })
      }),
      { numRuns: 80, seed: 7 },
    )
  })
})
