const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Every primary key is a PostgreSQL `uuid`; anything else would fail in the database, not here. */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}
