import { randomBytes } from 'node:crypto'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Every primary key is a PostgreSQL `uuid`; anything else would fail in the database, not here. */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/**
 * A new UUID version 7 (RFC 9562: 48 bits of Unix milliseconds, then random bits), as Prisma's
 * `@default(uuid(7))` makes: for rows inserted with raw SQL (bulk imports), where Prisma does not fill the id.
 */
export function newUuidV7(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16)
  bytes.writeUIntBE(nowMs, 0, 6)
  bytes[6] = 0x70 | (bytes[6]! & 0x0f)
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
