/**
 * `npx tsx bench/cursors.ts` (PostgreSQL at DATABASE_URL, default the `test` database)
 *
 * What signing cursors costs: one contact cursor signed and read (HMAC-SHA256,
 * src/cursors/cursor-codec.ts) beside the unsigned encoding it replaced, and,
 * in one server process on PostgreSQL (1,000 contacts), `contacts(first: 100)`
 * with every edge's cursor selected beside the same query without cursors
 * (median of 10 x 100 requests, alternating).
 */
import { randomUUID } from 'node:crypto'
import { cursorOf, decodeContactCursor, type CursorScope } from '../src/cursors/contact-cursor.ts'
import { encodeCursor, scopeDigest } from '../src/cursors/cursor-codec.ts'
import { openTestDatabase } from '../test/helpers/databases.ts'
import { createUserWithContacts } from '../test/helpers/fixtures.ts'
import { startTestServer } from '../test/helpers/server.ts'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const microseconds = (run: () => void, n: number) => {
  const started = performance.now()
  for (let i = 0; i < n; i++) run()
  return ((performance.now() - started) * 1000) / n
}

const scope: CursorScope = { userId: randomUUID(), orderBy: 'name', direction: 'asc', where: { OR: [{ name: { contains: 'ann', mode: 'insensitive' } }] } }
const row = { id: randomUUID(), name: 'Ada Lovelace 07' }
const digest = scopeDigest({ scope })
const data = [row.name, row.id, 1]
const cursor = cursorOf(row, scope)
const N = 100_000
const rounds = Array.from({ length: 3 }, () => ({
  signed: microseconds(() => encodeCursor('contacts', digest, data), N),
  unsigned: microseconds(() => Buffer.from(JSON.stringify(['name', 'asc', ...data])).toString('base64url'), N),
  decode: microseconds(() => decodeContactCursor(cursor, scope), N),
}))
process.stdout.write(`cursor encode: signed ${median(rounds.map((r) => r.signed)).toFixed(2)} µs, unsigned (before) ${median(rounds.map((r) => r.unsigned)).toFixed(2)} µs; decode with its scope ${median(rounds.map((r) => r.decode)).toFixed(2)} µs; ${cursor.length} characters\n`)

const db = await openTestDatabase('postgres')
const user = await createUserWithContacts(db.prisma, 'bench@example.com', 1000)
const server = await startTestServer(db)
const WITH = 'query { contacts(first: 100, filter: { search: "a" }) { edges { cursor node { id name } } pageInfo { endCursor } } }'
const WITHOUT = 'query { contacts(first: 100, filter: { search: "a" }) { edges { node { id name } } pageInfo { hasNextPage } } }'
const perRequest = async (query: string, n: number) => {
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const result = await server.query(query, {}, user.token)
    if (result.errors) throw new Error(JSON.stringify(result.errors))
  }
  return (performance.now() - started) / n
}
await perRequest(WITH, 50)
await perRequest(WITHOUT, 50)
const withCursors: number[] = []
const withoutCursors: number[] = []
for (let round = 0; round < 10; round++) {
  withCursors.push(await perRequest(WITH, 100))
  withoutCursors.push(await perRequest(WITHOUT, 100))
}
process.stdout.write(`contacts(first: 100): ${median(withCursors).toFixed(2)} ms with 100 edge cursors, ${median(withoutCursors).toFixed(2)} ms without (median of 10 x 100)\n`)
await server.close()
await db.destroy()
