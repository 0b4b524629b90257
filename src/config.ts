/**
 * Every environment variable the server reads, parsed and validated in one
 * place. Nothing else in `src/` reads `process.env`.
 */
import path from 'node:path'
import { CronExpressionParser } from 'cron-parser'
import { z } from 'zod'
import { PROJECT_ROOT } from './project-root.ts'
import { HOUR_MS, MINUTE_MS } from './time.ts'

/**
 * Limits on what a client may send, checked before parsing and execution on
 * HTTP, SSE and graphql-ws alike. The defaults were chosen by measuring the web
 * client's documents, GraphiQL's introspection and default documents (all pass:
 * test/e2e/limits.test.ts) and the event loop beside the heaviest allowed request.
 */
export interface RequestLimits {
  /** HTTP request body, bytes: refused from Content-Length, or while reading past it (413, BAD_REQUEST). */
  maxRequestBodyBytes: number
  /** GraphQL document (the query text), UTF-8 bytes, checked before parsing (BAD_REQUEST). */
  maxDocumentBytes: number
  /** Lexical tokens, counted while parsing (QUERY_TOO_COMPLEX). */
  maxTokens: number
  /** Selection depth, introspection aside (graphql-js bounds it) (QUERY_TOO_COMPLEX). */
  maxDepth: number
  /** Aliases in an operation, `__typename` included (QUERY_TOO_COMPLEX). */
  maxAliases: number
  /** Directives in an operation (QUERY_TOO_COMPLEX). */
  maxDirectives: number
  /** Cost before execution (Pothos complexity: a field 1, a list x10, `contacts` x `first`) (QUERY_TOO_COMPLEX). */
  maxQueryCost: number
  /** Parsed documents kept by Yoga's cache, bytes (estimated from text and tokens; 0 disables it). */
  documentCacheBytes: number
  /** Largest graphql-ws frame, bytes; a larger one closes the socket with 1009 before it is read. */
  wsMaxPayloadBytes: number
  /** Queries and mutations one user may have executing at once in a process; past it RATE_LIMITED (HTTP 429). */
  maxOperationsPerUser: number
}

/**
 * Budgets of partner credentials (API keys and OAuth apps; a user's own session token has none),
 * per credential and shared by every process through Redis (in-process without it):
 * src/graphql/limits/budget.ts. Over one: RATE_LIMITED, HTTP 429 with Retry-After and the IETF
 * RateLimit headers. The reasons for each default are beside {@link DEFAULT_PARTNER_BUDGETS}.
 */
export interface PartnerBudgets {
  /** PARTNER_POINTS_PER_HOUR: query cost (the cost limit's measure) one credential may spend in a fixed hour. */
  pointsPerHour: number
  /** PARTNER_BURST_POINTS: cost one credential may spend within PARTNER_BURST_SECONDS (an operation costing more takes the whole bucket). */
  burstPoints: number
  /** PARTNER_BURST_SECONDS: the burst bucket's window, seconds. */
  burstSeconds: number
  /** PARTNER_CONCURRENT_REQUESTS: queries and mutations of one credential executing at once, all processes together. */
  concurrentRequests: number
  /** PARTNER_CONCURRENT_STREAMS: subscriptions (SSE and graphql-ws) of one credential open at once, all processes together. */
  concurrentStreams: number
  /**
   * PARTNER_TRANSFER_POINTS: the flat cost of one file download or upload (`/export/*`, `/import/*`),
   * charged to both buckets like an operation (at most the whole hour); the transfer holds a
   * concurrent-request lease until its answer ends.
   */
  transferPoints: number
}

/**
 * The partner budgets' defaults, and why:
 * - 10,000 points an hour: one full read of a typical user's contacts an hour (about 700, Dunbar's
 *   circles: 7 pages of 100 with seven fields, 1,301 points each, measured with operationCost) and
 *   room for incremental reads and writes (`me { id email }` costs 3, `me` with 10 contacts of three
 *   fields 53); also MAX_QUERY_COST, so the costliest operation the cost limit lets through still
 *   fits an empty hour.
 * - a burst of 500 points per 10 s: at most a twentieth of the hour in any 10 s, so one credential
 *   cannot spend its hour in a second and hold the database pool (a page of 100 contacts takes
 *   the whole bucket; small queries pass 10-150 at a time).
 * - 10 concurrent requests: MAX_OPERATIONS_PER_USER's bound (measured in issue 10: more held
 *   the pool and piled results on the heap), now across processes.
 * - 5 streams: SUBSCRIPTIONS_PER_USER's bound (each stream holds a change listener and walks).
 * - 1,000 points a transfer (an export or an import file), flat: an export streams every row in
 *   keyset pages from one walk without resolvers, far cheaper per contact than GraphQL (the same 700
 *   contacts read as pages cost about 9,100 points), and its size is not known before it runs, so a
 *   flat price keeps it predictable. 1,000 is a tenth of the hour (ten full dumps or uploads an hour,
 *   a sync every 6 minutes) and more than the burst bucket, so a transfer empties that bucket: at
 *   most one per PARTNER_BURST_SECONDS, and no GraphQL beside it in that window.
 */
export const DEFAULT_PARTNER_BUDGETS: PartnerBudgets = { pointsPerHour: 10_000, burstPoints: 500, burstSeconds: 10, concurrentRequests: 10, concurrentStreams: 5, transferPoints: 1000 }

/** How many of each a user may own (quotas.ts enforces them). */
export interface Quotas {
  contacts: number
  groups: number
  calendarEvents: number
}

/** The default of `MAX_TOKENS_PER_USER`: active tokens one user may hold. */
export const DEFAULT_MAX_TOKENS_PER_USER = 100

/**
 * Sizes of the engine's per-user caches (suggestions/engine-caches.ts); 0 turns one off. Each is
 * bounded on its own, so the three together stay under about 25 MB at their defaults.
 */
export interface CacheSizes {
  /** TIMEZONE_CACHE_USERS: users whose time zone is kept (about 150 bytes each). */
  timezoneUsers: number
  /** FREE_TIME_CACHE_BYTES: free time kept, all users together (16 bytes a free stretch plus 64 a user). */
  freeTimeBytes: number
  /** SUGGESTION_STATE_CACHE_ROWS: stored statuses kept, all users together (about 200 bytes a row; a user without any counts 1). */
  suggestionStateRows: number
}

/**
 * The defaults of the cache sizes. 10,000 users: ten times the users of a morning rush on one
 * process (the 1,000 of bench:load's idle scenario) for 1.5 MB. 8 MB of free time: a week of a
 * typical user (a few windows a day, a few events) is 10 to 40 stretches, under 1 kB, so about
 * 10,000 such users; a user with thousands of events in the week takes its share. 50,000 statuses:
 * about 10 MB, 50 per user for 1,000 users (a user keeps a status per contact acted on in the horizon).
 */
export const DEFAULT_CACHE_SIZES: CacheSizes = { timezoneUsers: 10_000, freeTimeBytes: 8 * 1024 * 1024, suggestionStateRows: 50_000 }

/** The defaults of `MAX_CONTACTS_PER_USER`, `MAX_GROUPS_PER_USER`, `MAX_CALENDAR_EVENTS_PER_USER`. */
export const DEFAULT_QUOTAS: Quotas = { contacts: 1_000_000, groups: 1000, calendarEvents: 100_000 }

/** The default of `IMPORT_MAX_BYTES`: the largest file an import accepts (100 MB). */
export const DEFAULT_IMPORT_MAX_BYTES = 100_000_000

/** SECRET_KEY's minimum length in characters (256 bits of base64 and then some). */
const MIN_SECRET_KEY_LENGTH = 32

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const optionalUrl = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => {
      if (value === undefined) return true
      try {
        return protocols.includes(new URL(value).protocol)
      } catch {
        return false
      }
    }, `must be a URL like ${example}`)

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .optional()
  .transform((value) => (value === undefined ? undefined : ['true', '1', 'yes'].includes(value)))

function isCron(value: string): boolean {
  try {
    CronExpressionParser.parse(value)
    return true
  } catch {
    return false
  }
}

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().trim().min(1).optional(),
  // The default is the project's, wherever the server or a CLI is started from (as prisma/ and schema.graphql
  // are): from another directory `npm run db:migrate` created a second, empty ./.data there.
  DATA_DIR: z.string().trim().min(1).default(path.join(PROJECT_ROOT, '.data')),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:'], 'postgresql://user@127.0.0.1:5432/db'),
  REDIS_URL: optionalUrl(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SEED_DEMO_DATA: booleanFlag,
  MEMORY_THROTTLE_RATIO: z.coerce.number().gt(0).lt(1).default(0.7),
  MEMORY_OPEN_RATIO: z.coerce.number().gt(0).max(1).default(0.85),
  MEMORY_OPEN_TIMEOUT_MS: z.coerce.number().int().min(0).max(10 * MINUTE_MS).default(5000),
  SLOT_CAPACITY: z.coerce.number().int().min(1).max(100).default(1),
  SUGGESTION_HORIZON_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).max(1000).default(5),
  GENERATION_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  GENERATION_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(200),
  TIMEZONE_CACHE_USERS: z.coerce.number().int().min(0).max(10_000_000).default(DEFAULT_CACHE_SIZES.timezoneUsers),
  FREE_TIME_CACHE_BYTES: z.coerce.number().int().min(0).max(1024 ** 3).default(DEFAULT_CACHE_SIZES.freeTimeBytes),
  SUGGESTION_STATE_CACHE_ROWS: z.coerce.number().int().min(0).max(10_000_000).default(DEFAULT_CACHE_SIZES.suggestionStateRows),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
  SUGGESTION_REFRESH_CRON: z.string().trim().refine(isCron, 'must be a cron expression, e.g. "0 4 * * *"').default('0 4 * * *'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(10 * MINUTE_MS).default(10_000),
  TOKEN_RECHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(10 * MINUTE_MS).default(2000),
  MAX_TOKENS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_MAX_TOKENS_PER_USER),
  MAX_CONTACTS_PER_USER: z.coerce.number().int().min(1).max(100_000_000).default(DEFAULT_QUOTAS.contacts),
  MAX_GROUPS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_QUOTAS.groups),
  MAX_CALENDAR_EVENTS_PER_USER: z.coerce.number().int().min(1).max(100_000_000).default(DEFAULT_QUOTAS.calendarEvents),
  MAX_SLOTS: z.coerce.number().int().min(1).max(100_000).default(1000),
  WALK_TIME_BUDGET_MS: z.coerce.number().int().min(10).max(10 * MINUTE_MS).default(10_000),
  STREAM_WRITE_TIMEOUT_MS: z.coerce.number().int().min(100).max(HOUR_MS).default(30_000),
  MAX_REQUEST_BODY_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(1024 * 1024),
  MAX_DOCUMENT_BYTES: z.coerce.number().int().min(256).max(64 * 1024 ** 2).default(32 * 1024),
  MAX_TOKENS: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  MAX_DEPTH: z.coerce.number().int().min(1).max(100_000).default(10),
  MAX_ALIASES: z.coerce.number().int().min(0).max(100_000).default(15),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(100_000).default(20),
  MAX_QUERY_COST: z.coerce.number().int().min(1).max(1e9).default(10_000),
  DOCUMENT_CACHE_BYTES: z.coerce.number().int().min(0).max(1024 ** 3).default(16 * 1024 * 1024),
  WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(2 * 1024 * 1024),
  MAX_OPERATIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(10),
  PARTNER_POINTS_PER_HOUR: z.coerce.number().int().min(1).max(1e12).default(DEFAULT_PARTNER_BUDGETS.pointsPerHour),
  PARTNER_BURST_POINTS: z.coerce.number().int().min(1).max(1e12).default(DEFAULT_PARTNER_BUDGETS.burstPoints),
  PARTNER_BURST_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_PARTNER_BUDGETS.burstSeconds),
  PARTNER_CONCURRENT_REQUESTS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_PARTNER_BUDGETS.concurrentRequests),
  PARTNER_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_PARTNER_BUDGETS.concurrentStreams),
  PARTNER_TRANSFER_POINTS: z.coerce.number().int().min(1).max(1e12).default(DEFAULT_PARTNER_BUDGETS.transferPoints),
  IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 ** 3).default(DEFAULT_IMPORT_MAX_BYTES),
  SECRET_KEY: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => value === undefined || value.length >= MIN_SECRET_KEY_LENGTH, `must have at least ${MIN_SECRET_KEY_LENGTH} characters (e.g. \`openssl rand -base64 48\`)`),
  METRICS_TOKEN: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => value === undefined || (value.length >= 16 && /^[\x21-\x7e]+$/.test(value)), 'must be at least 16 printable characters without spaces'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PUBLIC_URL: optionalUrl(['http:', 'https:'], 'https://app.example.com').transform((value) => (value === undefined ? undefined : new URL(value).origin)),
  EXPORTS_PER_USER: z.coerce.number().int().min(1).max(1000).default(2),
  DAV_ALLOW_PRIVATE_URLS: booleanFlag,
  SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(15),
  DAV_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(10 * MINUTE_MS).default(30_000),
  MAX_ACCOUNTS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
  WEBHOOKS_ALLOW_PRIVATE_URLS: booleanFlag,
  MAX_WEBHOOK_ENDPOINTS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
  OAUTH_CLIENT_ID: z.string().trim().min(1).optional(),
  OAUTH_CLIENT_SECRET: z.string().trim().min(1).optional(),
  OAUTH_TOKEN_URL: optionalUrl(['http:', 'https:'], 'https://oauth2.googleapis.com/token'),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : value.split(',').map((origin) => origin.trim().replace(/\/+$/, '')).filter(Boolean)))
    .refine((origins) => origins === undefined || origins.every(isOrigin), 'must be comma-separated origins like https://app.example.com (scheme, host and port only)'),
})

/** `scheme://host[:port]`, exactly as a browser sends it in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value
  } catch {
    return false
  }
}

/** Where the Vite dev server serves the web client (`npm run dev -w web`): allowed by default in development. */
export const VITE_DEV_ORIGIN = 'http://localhost:5173'

export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Config {
  port: number
  /** Undefined: listen on every interface (Node's default; production's default). Outside production: 127.0.0.1. */
  host: string | undefined
  /** Where PGlite keeps its files when no DATABASE_URL is set; default `<project root>/.data`, a relative DATA_DIR is from the current directory. */
  dataDir: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  nodeEnv: 'development' | 'production' | 'test'
  logLevel: LogLevel
  /** Seed the demo user when the database has no user; on by default outside production. */
  seedDemoData: boolean
  /** Heap used / heap limit at which generation slows down, and at which it pauses. */
  memoryThrottleRatio: number
  memoryOpenRatio: number
  /** How long a generation may stay paused before it fails with a retryable MEMORY_PRESSURE. */
  memoryOpenTimeoutMs: number
  /** How many suggestions may share one free slot. */
  slotCapacity: number
  /** How far ahead free slots are looked for, and how long a dismissal lasts. */
  suggestionHorizonDays: number
  /** Concurrent `suggestions` subscriptions one user may hold in this process; past it, RATE_LIMITED. */
  subscriptionsPerUser: number
  /** Suggestion walks this process runs at once; the rest wait in a queue fair across users. */
  generationConcurrency: number
  /** Walks that may wait; past it, new subscriptions get RATE_LIMITED with a retry hint. */
  generationQueueLimit: number
  /** Sizes of the engine's per-user caches (time zone, free time, suggestion statuses). */
  cacheSizes: CacheSizes
  /** Background jobs (stored suggestion regeneration) this process runs at once. */
  jobConcurrency: number
  /** When every user's stored suggestions are regenerated (cron, UTC; a repeatable job). */
  suggestionRefreshCron: string
  /** How long a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number
  /**
   * How often each process re-reads, in one query, the tokens its long-lived streams
   * (graphql-ws sockets, SSE subscriptions) run on; a revoked one ends them (4403 on graphql-ws).
   */
  tokenRecheckIntervalMs: number
  /** Active (neither revoked nor expired) tokens a user may hold; past it, issuing one gives RATE_LIMITED. */
  maxTokensPerUser: number
  /** Per-user quotas on contacts, groups and calendar events created through the API (QUOTA_EXCEEDED past them). */
  quotas: Quotas
  /** Most `slots` one `suggestions` request may pass (the default horizon makes at most 336 a week); past it, BAD_USER_INPUT. */
  maxSlots: number
  /** Time one suggestion walk may work (not counting waits on its client) before it ends with a retryable TIMEOUT. */
  walkTimeBudgetMs: number
  /** How long a stream's consumer may take nothing (an event unread, or a socket that does not drain) before the stream is ended and its socket closed. */
  streamWriteTimeoutMs: number
  /** Limits checked before parsing and execution, on every transport (src/graphql/limits/). */
  requestLimits: RequestLimits
  /** Budgets of partner credentials (API keys, OAuth apps), shared by all processes through Redis. */
  partnerBudgets: PartnerBudgets
  /** The largest uploaded import file, bytes (IMPORT_MAX_BYTES): past it the upload is cut and refused with 413 BAD_REQUEST. */
  importMaxBytes: number
  /**
   * Signs cursors (SECRET_KEY, at least 32 characters, the same for every process of a deployment).
   * Required in production; otherwise `main.ts` keeps one in `DATA_DIR/secret-key`, and tests get a random one per process.
   */
  secretKey: string | undefined
  /** When set, `/metrics` answers only `Authorization: Bearer <metricsToken>` (401 otherwise). */
  metricsToken: string | undefined
  /** When set, `/metrics` is served on its own listener on this port (same host) and not on `port`. */
  metricsPort: number | undefined
  /**
   * Origins whose browsers may call `/graphql` (CORS, never with credentials). Default: none
   * in production; the Vite dev server's outside production. The server's own origin always works.
   */
  corsOrigins: string[]
  /**
   * The origin clients reach the server at (PUBLIC_URL), for the links it hands out (the calendar
   * feed's URL) and the host of exported UIDs; unset: the request's own origin.
   */
  publicUrl: string | undefined
  /** Exports (and calendar feed fetches) one user may have under way at once in a process; past it 429 RATE_LIMITED. */
  exportsPerUser: number
  /** CardDAV / CalDAV sync (issue 15). */
  sync: SyncConfig
  /** Webhook endpoints and deliveries (issue 17). */
  webhooks: WebhooksConfig
}

/** What webhook endpoints may be, and what the server may send to. */
export interface WebhooksConfig {
  /**
   * WEBHOOKS_ALLOW_PRIVATE_URLS: let endpoints be on loopback, private (RFC 1918) or unique-local addresses (off by
   * default; tests and self-hosted receivers on one's own network turn it on). Link-local addresses
   * (169.254.0.0/16 with the cloud metadata address, fe80::/10, and their IPv6 forms) and the other cloud metadata
   * addresses stay refused even then (net/outbound-fetch.ts isLinkLocalAddress).
   */
  allowPrivateUrls: boolean
  /** Endpoints one user may have (MAX_WEBHOOK_ENDPOINTS_PER_USER, default 10); past it, QUOTA_EXCEEDED. */
  maxEndpointsPerUser: number
}

/** How accounts sync, and what the server may fetch for them. */
export interface SyncConfig {
  /**
   * DAV_ALLOW_PRIVATE_URLS: let the server fetch hosts that resolve to loopback, private, link-local or
   * unique-local addresses (off by default: tests and self-hosters with a DAV server on their own network turn it on).
   */
  allowPrivateUrls: boolean
  /** How often each account syncs by itself (SYNC_INTERVAL_MINUTES, default 15), in ms. */
  intervalMs: number
  /** The time one DAV request may spend waiting on the server, for its headers and its body's bytes, redirects included (DAV_REQUEST_TIMEOUT_MS), in ms. */
  requestTimeoutMs: number
  /** Accounts one user may connect (MAX_ACCOUNTS_PER_USER); past it, QUOTA_EXCEEDED. */
  maxAccountsPerUser: number
  /**
   * The OAuth 2.0 client that refreshes bearer tokens (Google: a "Web application" client of the Google Cloud
   * project with the CardDAV and CalDAV APIs on; OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET), and its token endpoint
   * (OAUTH_TOKEN_URL, default Google's). Unset: a bearer account cannot refresh and needs re-authentication when
   * its access token expires.
   */
  oauth: { clientId: string | undefined; clientSecret: string | undefined; tokenUrl: string }
}

/** A configuration error; its message names every offending variable. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment. Throws a {@link ConfigError} naming each bad variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = environmentSchema.safeParse(env)
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment')
      return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`
    })
    throw new ConfigError(`Invalid environment configuration:\n${lines.join('\n')}`)
  }
  const parsed = result.data
  if (parsed.NODE_ENV === 'production' && parsed.SECRET_KEY === undefined) {
    throw new ConfigError(
      'Invalid environment configuration:\n  SECRET_KEY="": required in production: at least 32 random characters, the same for every process of the deployment (it signs cursors; e.g. `openssl rand -base64 48`)',
    )
  }
  if (parsed.MEMORY_THROTTLE_RATIO >= parsed.MEMORY_OPEN_RATIO) {
    throw new ConfigError(
      `Invalid environment configuration:\n  MEMORY_THROTTLE_RATIO=${JSON.stringify(env.MEMORY_THROTTLE_RATIO ?? '')}: must be below MEMORY_OPEN_RATIO (${parsed.MEMORY_OPEN_RATIO})`,
    )
  }
  return {
    port: parsed.PORT,
    // A development server hands out the demo token: keep it off the network unless HOST says otherwise.
    host: parsed.HOST ?? (parsed.NODE_ENV === 'production' ? undefined : '127.0.0.1'),
    dataDir: parsed.DATA_DIR,
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    seedDemoData: parsed.SEED_DEMO_DATA ?? parsed.NODE_ENV !== 'production',
    memoryThrottleRatio: parsed.MEMORY_THROTTLE_RATIO,
    memoryOpenRatio: parsed.MEMORY_OPEN_RATIO,
    memoryOpenTimeoutMs: parsed.MEMORY_OPEN_TIMEOUT_MS,
    slotCapacity: parsed.SLOT_CAPACITY,
    suggestionHorizonDays: parsed.SUGGESTION_HORIZON_DAYS,
    subscriptionsPerUser: parsed.SUBSCRIPTIONS_PER_USER,
    generationConcurrency: parsed.GENERATION_CONCURRENCY,
    generationQueueLimit: parsed.GENERATION_QUEUE_LIMIT,
    cacheSizes: {
      timezoneUsers: parsed.TIMEZONE_CACHE_USERS,
      freeTimeBytes: parsed.FREE_TIME_CACHE_BYTES,
      suggestionStateRows: parsed.SUGGESTION_STATE_CACHE_ROWS,
    },
    jobConcurrency: parsed.JOB_CONCURRENCY,
    suggestionRefreshCron: parsed.SUGGESTION_REFRESH_CRON,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    tokenRecheckIntervalMs: parsed.TOKEN_RECHECK_INTERVAL_MS,
    maxTokensPerUser: parsed.MAX_TOKENS_PER_USER,
    quotas: { contacts: parsed.MAX_CONTACTS_PER_USER, groups: parsed.MAX_GROUPS_PER_USER, calendarEvents: parsed.MAX_CALENDAR_EVENTS_PER_USER },
    maxSlots: parsed.MAX_SLOTS,
    walkTimeBudgetMs: parsed.WALK_TIME_BUDGET_MS,
    streamWriteTimeoutMs: parsed.STREAM_WRITE_TIMEOUT_MS,
    requestLimits: {
      maxRequestBodyBytes: parsed.MAX_REQUEST_BODY_BYTES,
      maxDocumentBytes: parsed.MAX_DOCUMENT_BYTES,
      maxTokens: parsed.MAX_TOKENS,
      maxDepth: parsed.MAX_DEPTH,
      maxAliases: parsed.MAX_ALIASES,
      maxDirectives: parsed.MAX_DIRECTIVES,
      maxQueryCost: parsed.MAX_QUERY_COST,
      documentCacheBytes: parsed.DOCUMENT_CACHE_BYTES,
      wsMaxPayloadBytes: parsed.WS_MAX_PAYLOAD_BYTES,
      maxOperationsPerUser: parsed.MAX_OPERATIONS_PER_USER,
    },
    partnerBudgets: {
      pointsPerHour: parsed.PARTNER_POINTS_PER_HOUR,
      burstPoints: parsed.PARTNER_BURST_POINTS,
      burstSeconds: parsed.PARTNER_BURST_SECONDS,
      concurrentRequests: parsed.PARTNER_CONCURRENT_REQUESTS,
      concurrentStreams: parsed.PARTNER_CONCURRENT_STREAMS,
      transferPoints: parsed.PARTNER_TRANSFER_POINTS,
    },
    importMaxBytes: parsed.IMPORT_MAX_BYTES,
    secretKey: parsed.SECRET_KEY,
    metricsToken: parsed.METRICS_TOKEN,
    metricsPort: parsed.METRICS_PORT,
    corsOrigins: parsed.CORS_ORIGINS ?? (parsed.NODE_ENV === 'production' ? [] : [VITE_DEV_ORIGIN]),
    publicUrl: parsed.PUBLIC_URL,
    exportsPerUser: parsed.EXPORTS_PER_USER,
    sync: {
      allowPrivateUrls: parsed.DAV_ALLOW_PRIVATE_URLS ?? false,
      intervalMs: parsed.SYNC_INTERVAL_MINUTES * MINUTE_MS,
      requestTimeoutMs: parsed.DAV_REQUEST_TIMEOUT_MS,
      maxAccountsPerUser: parsed.MAX_ACCOUNTS_PER_USER,
      oauth: {
        clientId: parsed.OAUTH_CLIENT_ID,
        clientSecret: parsed.OAUTH_CLIENT_SECRET,
        tokenUrl: parsed.OAUTH_TOKEN_URL ?? 'https://oauth2.googleapis.com/token',
      },
    },
    webhooks: {
      allowPrivateUrls: parsed.WEBHOOKS_ALLOW_PRIVATE_URLS ?? false,
      maxEndpointsPerUser: parsed.MAX_WEBHOOK_ENDPOINTS_PER_USER,
    },
  }
}

/** For command-line entry points: the config, or a clear message on stderr and exit code 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return parseConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}
