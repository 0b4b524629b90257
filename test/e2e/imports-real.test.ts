/**
 * Issue 12, the real contacts formats end to end on a real server: the Google CSV and Apple vCard
 * fixtures through `POST /import/contacts` and through the multipart `importContacts` mutation,
 * with the counts and error rows the readers' unit tests predict; a live suggestions subscription of
 * the importing user gets exactly ONE SuggestionsUpdated for the import (proved with a marker change
 * once the stream is idle, read from the `suggestions_subscriptions_waiting` gauge: no fixed sleep);
 * another user's import id is NOT_FOUND.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { issueToken } from '../../src/auth/tokens.ts'
import { wsClient } from '../helpers/clients.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts } from '../helpers/fixtures.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const kinds = await availableDatabaseKinds()
const IMPORT_FIELDS = 'id status format total done created updated unchanged rejected error'
const fixture = (name: string) => readFile(new URL(`../fixtures/imports/${name}`, import.meta.url))

/** What each fixture gives (test/unit/contact-import-readers.test.ts reads the same files field by field). */
const GOOGLE_CSV = { total: 5, created: 4, rejected: 1 }
const APPLE_VCF = { total: 2, created: 2, rejected: 0 }

const SUBSCRIPTION = /* GraphQL */ `
  subscription {
    suggestions(input: { maxSuggestions: 5, slots: [] }) {
      __typename
      ... on SuggestionsComplete { suggestions { contact { id } } }
      ... on SuggestionsUpdated { suggestions { contact { id } } }
    }
  }
`
type Event = { __typename: string; suggestions?: { contact: { id: string } }[] }

describe.each(kinds)('real contacts imports on %s', (kind) => {
  let db: TestDatabase
  let server: TestServer
  let origin: string
  let users = 0

  beforeAll(async () => {
    db = await openTestDatabase(kind)
    server = await startTestServer(db)
    origin = new URL(server.url).origin
  })
  afterAll(async () => {
    await server?.close()
    await db?.destroy()
  })

  async function newUser() {
    const user = await db.prisma.user.create({ data: { email: `real${++users}@example.com` } })
    return { id: user.id, token: await issueToken(db.prisma, user.id, 'test') }
  }
  const importOf = (token: string, id: string) => server.query<{ import: Record<string, any> }>(`query($id: ID!) { import(id: $id) { ${IMPORT_FIELDS} } }`, { id }, token)
  async function finished(token: string, id: string) {
    let row: Record<string, any> | undefined
    await vi.waitFor(
      async () => {
        row = (await importOf(token, id)).data?.import
        expect(['SUCCEEDED', 'FAILED']).toContain(row?.status)
      },
      { timeout: 30_000, interval: 50 },
    )
    return row!
  }
  async function post(token: string, body: Uint8Array<ArrayBuffer>, contentType: string, format: string) {
    const response = await fetch(`${origin}/import/contacts?format=${format}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body })
    expect(response.status).toBe(202)
    return ((await response.json()) as { id: string }).id
  }
  async function multipart(token: string, body: Uint8Array<ArrayBuffer>, type: string, name: string) {
    const form = new FormData()
    form.append('operations', JSON.stringify({ query: `mutation($file: File!) { importContacts(file: $file) { ${IMPORT_FIELDS} } }`, variables: { file: null } }))
    form.append('map', JSON.stringify({ 0: ['variables.file'] }))
    form.append('0', new Blob([body], { type }), name)
    const response = await fetch(server.url, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${token}` }, body: form })
    const result = (await response.json()) as any
    expect(result.errors).toBeUndefined()
    return result.data.importContacts.id as string
  }
  const errorsOf = async (token: string, id: string) =>
    (await server.query(`query($id: ID!) { import(id: $id) { errors(first: 20) { edges { node { position field reason } } } } }`, { id }, token)).data!.import.errors.edges.map(
      (edge: any) => edge.node,
    )

  it('the Google CSV and the Apple vCard through POST /import/contacts and importContacts give the expected counts', async () => {
    const csv = await fixture('google-contacts.csv')
    const vcf = await fixture('apple.vcf')
    for (const send of ['POST', 'multipart'] as const) {
      const user = await newUser()
      const csvId = send === 'POST' ? await post(user.token, csv, 'text/csv', 'csv') : await multipart(user.token, csv, 'text/csv', 'google.csv')
      expect(await finished(user.token, csvId)).toMatchObject({ status: 'SUCCEEDED', format: 'csv', ...GOOGLE_CSV, done: GOOGLE_CSV.total, updated: 0, error: null })
      // The nameless row is rejected; Ivan's bad e-mail is a field left out, his contact imported.
      const errors = await errorsOf(user.token, csvId)
      expect(errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ position: 8, field: 'name' }), expect.objectContaining({ position: 9, field: 'email' })]),
      )
      expect(errors).toHaveLength(2)
      const names = async (userId: string) => (await db.prisma.contact.findMany({ where: { userId }, orderBy: { name: 'asc' } })).map((c) => c.name)
      expect(await names(user.id)).toEqual(['Example Plumbing Ltd', 'Grace Example', 'Heidi Sample', 'Ivan Bademail'])
      const grace = await db.prisma.contact.findFirstOrThrow({ where: { userId: user.id, name: 'Grace Example' } })
      expect(grace).toMatchObject({ source: 'CSV', birthday: '1979-12-09', linkedIn: 'https://www.linkedin.com/in/grace-example' })

      const vcfUser = await newUser()
      const vcfId = send === 'POST' ? await post(vcfUser.token, vcf, 'text/vcard', 'vcard') : await multipart(vcfUser.token, vcf, 'text/vcard', 'apple.vcf')
      expect(await finished(vcfUser.token, vcfId)).toMatchObject({ status: 'SUCCEEDED', format: 'vcard', ...APPLE_VCF, done: APPLE_VCF.total, error: null })
      expect(await names(vcfUser.id)).toEqual(['Ada Marie Example', 'Bruno Sample'])

      // The same vCard into the CSV user: Ada's phone (+49 30 1234567) is Grace's, so that card matches
      // Grace's contact (dedupe on e-mail or phone) and updates it; Bruno is new.
      const mergeId = send === 'POST' ? await post(user.token, vcf, 'text/vcard', 'vcard') : await multipart(user.token, vcf, 'text/vcard', 'apple.vcf')
      expect(await finished(user.token, mergeId)).toMatchObject({ status: 'SUCCEEDED', total: 2, created: 1, updated: 1, rejected: 0 })
      expect(await db.prisma.contact.count({ where: { userId: user.id } })).toBe(5)
      // The imported name wins on the matched contact (the spec keeps only circle, frequency and the user's notes).
      expect(await names(user.id)).toEqual(['Ada Marie Example', 'Bruno Sample', 'Example Plumbing Ltd', 'Heidi Sample', 'Ivan Bademail'])
      // Another user: that import does not exist for them.
      const other = await newUser()
      expect((await importOf(other.token, csvId)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
      expect((await importOf(other.token, vcfId)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    }
  })

  it('a live suggestions subscription gets exactly one SuggestionsUpdated for an import', async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`${origin}/metrics`)).text()
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    }
    const carol = await createUserWithContacts(db.prisma, `carol-real${++users}@example.com`, 20)
    const client = wsClient(server.url, carol.token)
    const events: Event[] = []
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ suggestions: Event }>({ query: SUBSCRIPTION }, { next: (result) => void events.push(result.data?.suggestions ?? { __typename: `error ${JSON.stringify(result.errors)}` }), error: reject, complete: resolve })
    })
    const updates = () => events.filter((event) => event.__typename === 'SuggestionsUpdated')
    try {
      await vi.waitFor(() => expect(events.map((e) => e.__typename)).toContain('SuggestionsComplete'), { timeout: 30_000 })
      await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_waiting')).toBe(1), { timeout: 30_000, interval: 50 })
      const id = await post(carol.token, await fixture('google-contacts.csv'), 'text/csv', 'csv')
      expect(await finished(carol.token, id)).toMatchObject({ status: 'SUCCEEDED', ...GOOGLE_CSV })
      await vi.waitFor(() => expect(updates().length).toBeGreaterThanOrEqual(1), { timeout: 30_000 })
      // Idle again: every update the import caused has been sent. A marker change now gives the next one,
      // so an extra update of the import would show as a third.
      await vi.waitFor(async () => expect(await metric('suggestions_subscriptions_waiting')).toBe(1), { timeout: 30_000, interval: 50 })
      const marker = updates()[0]!.suggestions![0]!.contact.id
      const logged = await server.query('mutation($id: ID!) { logInteraction(contactId: $id) { id } }', { id: marker }, carol.token)
      expect(logged.errors).toBeUndefined()
      await vi.waitFor(() => expect(updates().length).toBeGreaterThanOrEqual(2), { timeout: 30_000 })
      expect(updates()).toHaveLength(2)
      expect(updates()[1]!.suggestions!.map((s) => s.contact.id)).not.toContain(marker)
      expect(events.filter((event) => event.__typename.startsWith('error'))).toEqual([])
    } finally {
      await client.dispose()
      await done.catch(() => {})
    }
  })
})
