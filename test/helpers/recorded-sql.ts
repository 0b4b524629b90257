/** Recorded SQL (from `openTestDatabase`'s `onQuery`) made comparable across databases, for tests that assert the exact queries a request sends. */

/**
 * `sql` without its schema (a per-test schema on PostgreSQL, "public" on PGlite), with the column list of
 * its first SELECT elided and its whitespace collapsed: the same statement reads the same on both databases.
 */
export const normalizeSql = (sql: string): string =>
  sql
    .replace(/"(?:public|test_\w+)"\./g, '')
    .replace(/^SELECT .+? FROM /, 'SELECT … FROM ')
    .replace(/\s+/g, ' ')
    .trim()
