/**
 * An unexpected database error is logged with its code and reason, never with
 * the query Prisma quotes (the call and its arguments: user data) or the
 * driver's statement, on both databases. Real Prisma errors, the server's logger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { captureLogs, ERROR_LEVEL } from '../helpers/log-capture.ts'

const SECRET = 'secret-value-7f3a'

describe.each(await availableDatabaseKinds())('Prisma errors in the logs (%s)', (kind) => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase(kind)
    await db.prisma.user.create({ data: { email: `${SECRET}@example.com`, name: SECRET } })
  })
  afterAll(() => db?.destroy())

  const failures: [string, (db: TestDatabase) => Promise<unknown>, RegExp][] = [
    ['a unique constraint', (db) => db.prisma.user.create({ data: { email: `${SECRET}@example.com`, name: SECRET } }), /Unique constraint failed/],
    ['an invalid call with its arguments', (db) => db.prisma.contact.create({ data: { name: SECRET, userId: SECRET } as never }), /Argument `.+` is missing|Invalid value/],
    ['a value the database refuses', (db) => db.prisma.user.create({ data: { email: `${SECRET}\u0000@example.com`, name: SECRET } }), /Code: `22021`|invalid byte sequence|0x00/],
    ['a raw statement', (db) => db.prisma.$queryRawUnsafe(`SELECT '${SECRET}' FROM nowhere_${kind}`), /nowhere|does not exist/],
  ]

  it.each(failures)('%s: code and reason, no query, no values', async (_name, fail, reason) => {
    const error = await fail(db).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(Error)
    const { logger, lines } = captureLogs('info')
    logger.error({ err: error }, 'unexpected error')
    logger.error(error) // as Yoga and libraries log errors
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line.level).toBe(ERROR_LEVEL)
      expect(line.err?.type).toMatch(/^Prisma/)
      expect(line.err?.message).toMatch(reason)
      const text = JSON.stringify(line)
      expect(text).not.toContain(SECRET)
      expect(text).not.toMatch(/SELECT|INSERT|Invalid `[^`]*` invocation|"meta"/)
    }
  })
})
