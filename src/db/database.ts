/**
 * Opens the database: PGlite in-process (the embedded default, files under
 * DATA_DIR) or PostgreSQL when a URL is given. Both speak the same SQL and
 * take the same migrations; the rest of the code sees one {@link Database}.
 */
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.ts'
import { lockDataDir } from './data-dir-lock.ts'

export type { PrismaClient }

export interface Database {
  readonly kind: 'pglite' | 'postgres'
  readonly prisma: PrismaClient
  /** The adapter factory Prisma uses; migrations run through it too. */
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory
  /** The PostgreSQL schema the tables live in (`public` unless isolated, e.g. in tests). */
  readonly schema: string
  /** Raw parameterized SQL on the same connection(s), for bulk paths and the engine's own queries. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>
  /**
   * Runs a hot statement without Prisma: on PostgreSQL a named prepared
   * statement (prepared once per pool connection: the same `name` must always
   * come with the same `text`), on PGlite its own query. Rows come as arrays
   * of column values in select order, parsed by the driver's defaults (text as
   * strings, float8 and int4 as numbers). Reported to `onQuery` like Prisma's.
   */
  queryPrepared(statement: { readonly name: string; readonly text: string }, values: unknown[]): Promise<unknown[][]>
  /** Runs a multi-statement script atomically: all of it or none. */
  executeScriptAtomically(script: string): Promise<void>
  /** The underlying pg pool (PostgreSQL only), for COPY. */
  readonly pool?: pg.Pool
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** postgres(ql):// URL; when absent, PGlite. */
  databaseUrl?: string | undefined
  /** PGlite's data directory, or `memory://` for an in-memory database. */
  dataDir?: string
  /** PostgreSQL schema to use (created if missing; PostgreSQL only). Default `public`. */
  schema?: string
  /** Pool size for PostgreSQL. */
  maxConnections?: number
  /** Called with every SQL statement Prisma sends, and every `queryPrepared` (tests count queries with it). */
  onQuery?: (sql: string) => void
}

function createPrismaClient(adapter: SqlMigrationAwareDriverAdapterFactory, onQuery: DatabaseOptions['onQuery']): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter })
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] })
  prisma.$on('query', (event) => onQuery(event.query))
  return prisma
}

/**
 * PostgreSQL's errors of a prepared statement whose plan no longer fits the schema: "cached plan must not
 * change result type" (0A000) and "cache lookup failed for type N" (XX000, a replaced enum type).
 */
function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown }
  return typeof message === 'string' && ((code === '0A000' && message.includes('cached plan')) || (code === 'XX000' && message.includes('cache lookup failed for type')))
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const schema = options.schema ?? 'public'
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`)
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, schema, options.maxConnections ?? 10, options.onQuery)
    : openPGlite(options.dataDir ?? 'memory://', options.onQuery)
}

async function openPostgres(url: string, schema: string, max: number, onQuery: DatabaseOptions['onQuery']): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // JIT off on every connection: this server runs short statements, and a misestimated cost (an `unnest`
    // of 2,000 keys estimated at 300,000 rows) crossed jit_above_cost and spent 400 ms compiling a 15 ms lookup.
    options: schema === 'public' ? '-c jit=off' : `-c jit=off -c search_path=${schema}`,
  })
  // An idle client's error (e.g. the server restarting) must not crash the process.
  pool.on('error', () => {})
  if (schema !== 'public') await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
  const adapterFactory = new PrismaPg(pool, { schema: schema === 'public' ? undefined : schema })
  const prisma = createPrismaClient(adapterFactory, onQuery)
  return {
    kind: 'postgres',
    prisma,
    adapterFactory,
    schema,
    pool,
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as Row[]
    },
    async queryPrepared({ name, text }, values) {
      onQuery?.(text)
      // A connection whose prepared plan went stale (a migration changed a column's type or replaced an enum
      // while this process ran) fails it for good: close that connection (the pool opens a fresh one, which
      // prepares anew) and try again, at most once per connection of the pool.
      for (let attempt = 0; ; attempt++) {
        const client = await pool.connect()
        try {
          const rows = (await client.query<unknown[]>({ name, text, values, rowMode: 'array' })).rows
          client.release()
          return rows
        } catch (error) {
          const stale = isStalePlan(error)
          client.release(stale)
          if (!stale || attempt >= max) throw error
        }
      }
    },
    async executeScriptAtomically(script: string) {
      const client = await pool.connect()
      try {
        // The simple query protocol runs a multi-statement script (and `$$` bodies) as the server parses it.
        await client.query(`BEGIN;\n${script}\n;COMMIT;`)
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    async close() {
      await prisma.$disconnect()
      await pool.end()
    },
  }
}

/** PGlite is one database per process (or per `memory://` instance), so it needs no schema isolation. */
async function openPGlite(dataDir: string, onQuery: DatabaseOptions['onQuery']): Promise<Database> {
  let unlock = () => {}
  if (!dataDir.includes('://')) {
    await mkdir(dataDir, { recursive: true })
    unlock = lockDataDir(dataDir)
  }
  const pglite = await PGlite.create(dataDir).catch((error: unknown) => {
    unlock()
    throw error
  })
  const adapterFactory = new PrismaPGlite(pglite)
  const prisma = createPrismaClient(adapterFactory, onQuery)
  return {
    kind: 'pglite',
    prisma,
    adapterFactory,
    schema: 'public',
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await pglite.query<Row>(sql, params)).rows
    },
    async queryPrepared({ text }, values) {
      onQuery?.(text)
      return (await pglite.query<unknown[]>(text, values, { rowMode: 'array' })).rows
    },
    async executeScriptAtomically(script: string) {
      await pglite.transaction(async (tx) => {
        await tx.exec(script)
      })
    },
    async close() {
      await prisma.$disconnect()
      await pglite.close()
      unlock()
    },
  }
}
