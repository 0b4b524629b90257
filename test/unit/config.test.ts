import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { ConfigError, parseConfig } from '../../src/config.ts'
import { PROJECT_ROOT } from '../../src/project-root.ts'

/** A SECRET_KEY long enough for production. */
const KEY = 'k'.repeat(32)

describe('parseConfig', () => {
  it('has working defaults', () => {
    expect(parseConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      dataDir: path.join(PROJECT_ROOT, '.data'),
      databaseUrl: undefined,
      redisUrl: undefined,
      nodeEnv: 'development',
      logLevel: 'info',
      seedDemoData: true,
      memoryThrottleRatio: 0.7,
      memoryOpenRatio: 0.85,
      memoryOpenTimeoutMs: 5000,
      slotCapacity: 1,
      suggestionHorizonDays: 7,
      subscriptionsPerUser: 5,
      generationConcurrency: 8,
      generationQueueLimit: 200,
      cacheSizes: { timezoneUsers: 10_000, freeTimeBytes: 8 * 1024 * 1024, suggestionStateRows: 50_000 },
      jobConcurrency: 2,
      suggestionRefreshCron: '0 4 * * *',
      shutdownTimeoutMs: 10_000,
      tokenRecheckIntervalMs: 2000,
      maxTokensPerUser: 100,
      quotas: { contacts: 1_000_000, groups: 1000, calendarEvents: 100_000 },
      maxSlots: 1000,
      walkTimeBudgetMs: 10_000,
      streamWriteTimeoutMs: 30_000,
      requestLimits: {
        maxRequestBodyBytes: 1024 * 1024,
        maxDocumentBytes: 32 * 1024,
        maxTokens: 1000,
        maxDepth: 10,
        maxAliases: 15,
        maxDirectives: 20,
        maxQueryCost: 10_000,
        documentCacheBytes: 16 * 1024 * 1024,
        wsMaxPayloadBytes: 2 * 1024 * 1024,
        maxOperationsPerUser: 10,
      },
      partnerBudgets: { pointsPerHour: 10_000, burstPoints: 500, burstSeconds: 10, concurrentRequests: 10, concurrentStreams: 5, transferPoints: 1000 },
      importMaxBytes: 100_000_000,
      secretKey: undefined,
      metricsToken: undefined,
      metricsPort: undefined,
      corsOrigins: ['http://localhost:5173'],
      publicUrl: undefined,
      exportsPerUser: 2,
      sync: {
        allowPrivateUrls: false,
        intervalMs: 15 * 60_000,
        requestTimeoutMs: 30_000,
        maxAccountsPerUser: 10,
        oauth: { clientId: undefined, clientSecret: undefined, tokenUrl: 'https://oauth2.googleapis.com/token' },
      },
      webhooks: { allowPrivateUrls: false, maxEndpointsPerUser: 10 },
    })
    expect(parseConfig({ WEBHOOKS_ALLOW_PRIVATE_URLS: 'true', MAX_WEBHOOK_ENDPOINTS_PER_USER: '3' }).webhooks).toEqual({ allowPrivateUrls: true, maxEndpointsPerUser: 3 })
    expect(() => parseConfig({ MAX_WEBHOOK_ENDPOINTS_PER_USER: '0' })).toThrow(/MAX_WEBHOOK_ENDPOINTS_PER_USER/)
    expect(parseConfig({ DAV_ALLOW_PRIVATE_URLS: 'true', SYNC_INTERVAL_MINUTES: '5' }).sync).toMatchObject({ allowPrivateUrls: true, intervalMs: 5 * 60_000 })
    expect(() => parseConfig({ SYNC_INTERVAL_MINUTES: '0' })).toThrow(/SYNC_INTERVAL_MINUTES/)
    expect(parseConfig({ MAX_CONTACTS_PER_USER: '5', MAX_GROUPS_PER_USER: '6', MAX_CALENDAR_EVENTS_PER_USER: '7' }).quotas).toEqual({ contacts: 5, groups: 6, calendarEvents: 7 })
  })

  it('listens on loopback outside production and on every interface in production, unless HOST says otherwise', () => {
    expect(parseConfig({ NODE_ENV: 'development' }).host).toBe('127.0.0.1')
    expect(parseConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1')
    expect(parseConfig({ NODE_ENV: 'production', SECRET_KEY: KEY }).host).toBeUndefined()
    expect(parseConfig({ NODE_ENV: 'development', HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(parseConfig({ NODE_ENV: 'production', SECRET_KEY: KEY, HOST: '10.0.0.5' }).host).toBe('10.0.0.5')
  })

  it('reads the production surface: metrics token and port, CORS origins (none by default in production)', () => {
    expect(parseConfig({ NODE_ENV: 'production', SECRET_KEY: KEY })).toMatchObject({ corsOrigins: [], metricsToken: undefined, metricsPort: undefined })
    expect(
      parseConfig({ NODE_ENV: 'production', SECRET_KEY: KEY, METRICS_TOKEN: 'abcdefghijklmnop', METRICS_PORT: '9464', CORS_ORIGINS: 'https://a.example, http://b.example:8080/' }),
    ).toMatchObject({ metricsToken: 'abcdefghijklmnop', metricsPort: 9464, corsOrigins: ['https://a.example', 'http://b.example:8080'] })
    expect(parseConfig({ CORS_ORIGINS: '' }).corsOrigins).toEqual([])
  })

  it('reads every variable', () => {
    const config = parseConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgresql://u@h:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      SECRET_KEY: 'k'.repeat(32),
    })
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', nodeEnv: 'production', seedDemoData: false, secretKey: 'k'.repeat(32) })
    expect(parseConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined()
  })

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['SEED_DEMO_DATA', 'maybe'],
    ['MEMORY_THROTTLE_RATIO', '1.5'],
    ['MEMORY_OPEN_RATIO', '0'],
    ['SLOT_CAPACITY', '0'],
    ['SUGGESTION_HORIZON_DAYS', 'week'],
    ['GENERATION_CONCURRENCY', '0'],
    ['GENERATION_QUEUE_LIMIT', '-1'],
    ['TIMEZONE_CACHE_USERS', '-1'],
    ['FREE_TIME_CACHE_BYTES', 'lots'],
    ['SUGGESTION_STATE_CACHE_ROWS', '1.5'],
    ['JOB_CONCURRENCY', 'many'],
    ['SUGGESTION_REFRESH_CRON', 'every day'],
    ['SHUTDOWN_TIMEOUT_MS', '5'],
    ['TOKEN_RECHECK_INTERVAL_MS', '10'],
    ['MAX_TOKENS_PER_USER', '0'],
    ['MAX_CONTACTS_PER_USER', '0'],
    ['MAX_GROUPS_PER_USER', 'lots'],
    ['MAX_CALENDAR_EVENTS_PER_USER', '1.5'],
    ['MAX_SLOTS', '0'],
    ['WALK_TIME_BUDGET_MS', 'soon'],
    ['STREAM_WRITE_TIMEOUT_MS', '10'],
    ['MAX_REQUEST_BODY_BYTES', '10'],
    ['MAX_DOCUMENT_BYTES', 'big'],
    ['MAX_TOKENS', '0'],
    ['MAX_DEPTH', '0'],
    ['MAX_ALIASES', '-1'],
    ['MAX_DIRECTIVES', '1.5'],
    ['MAX_QUERY_COST', '0'],
    ['DOCUMENT_CACHE_BYTES', '-1'],
    ['WS_MAX_PAYLOAD_BYTES', '1'],
    ['MAX_OPERATIONS_PER_USER', '0'],
    ['SECRET_KEY', 'too short'],
    ['METRICS_TOKEN', 'short'],
    ['METRICS_TOKEN', 'has a space in it, too'],
    ['METRICS_PORT', '70000'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://a.example/path'],
    ['CORS_ORIGINS', 'ftp://a.example'],
  ])('names the variable when %s=%s is bad', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`${name}=`))
  })

  it('wants the throttle ratio below the open ratio', () => {
    expect(() => parseConfig({ MEMORY_THROTTLE_RATIO: '0.9', MEMORY_OPEN_RATIO: '0.8' })).toThrow(/MEMORY_THROTTLE_RATIO=/)
  })

  it('requires SECRET_KEY in production, and only there', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY="": required in production/)
    expect(() => parseConfig({ NODE_ENV: 'production', SECRET_KEY: '' })).toThrow(/SECRET_KEY=/)
    expect(parseConfig({ NODE_ENV: 'test' }).secretKey).toBeUndefined()
  })

  it('lists every bad variable at once', () => {
    expect(() => parseConfig({ PORT: '-1', LOG_LEVEL: 'x' })).toThrow(/PORT=[\s\S]*LOG_LEVEL=/)
  })
})

describe('the server with a bad configuration', () => {
  it('exits with code 1 and a clear message naming the variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'not-a-port', LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('PORT="not-a-port"')
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/) // no stack trace
  })
})

describe('IMPORT_MAX_BYTES', () => {
  it('is read as bytes, and a value that is not a size stops the process naming it', () => {
    expect(parseConfig({ IMPORT_MAX_BYTES: '2048' }).importMaxBytes).toBe(2048)
    expect(() => parseConfig({ IMPORT_MAX_BYTES: 'lots' })).toThrow(/IMPORT_MAX_BYTES/)
    expect(() => parseConfig({ IMPORT_MAX_BYTES: '10' })).toThrow(/IMPORT_MAX_BYTES/)
  })
})
