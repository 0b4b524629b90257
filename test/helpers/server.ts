/** A real server on port 0 over a test database, and a tiny GraphQL-over-HTTP client. */
import { randomBytes } from 'node:crypto'
import { buildApp, type App } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import { createLogger, type Logger } from '../../src/logger.ts'
import type { Database } from '../../src/db/database.ts'
import type { Clock } from '../../src/clock.ts'
import type { ImportFormats } from '../../src/imports/run-import.ts'
import type { DavServices } from '../../src/accounts/accounts.ts'
import type { Syncers } from '../../src/sync/run-sync.ts'
import type { BudgetCredential, CredentialBudgets } from '../../src/graphql/limits/budget.ts'

export interface GraphQLResponse<Data = Record<string, unknown>> {
  data?: Data | null
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]
}

export interface TestServer {
  app: App
  url: string
  /** `/metrics` on its own listener (with METRICS_PORT). */
  metricsUrl?: string | undefined
  query<Data = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<Data>>
  close(): Promise<void>
}

/** The SECRET_KEY of every in-process test server of this test process (random per process). */
export const TEST_SERVER_SECRET_KEY = randomBytes(48).toString('base64url')

export async function startTestServer(
  db: Database,
  options: {
    demoToken?: string
    env?: Record<string, string>
    logger?: Logger
    clock?: Clock
    /** Readers and writers of imports (tests of the pipeline pass small fakes). */
    importFormats?: ImportFormats
    importRun?: { batchSize?: number; announceEveryMs?: number }
    /** The DAV wire and the collection syncers (account tests). */
    dav?: DavServices
    syncers?: Syncers
    /** Which credentials have partner budgets (budget tests pass `() => true` to budget a session token). */
    isBudgeted?: (credential: BudgetCredential) => boolean
    /** The partner budgets (default: in-process, or on REDIS_URL's Redis when `env` sets it). */
    budgets?: CredentialBudgets
    /** The webhook retry schedule in ms (webhook tests pass a short one). */
    webhookRetryScheduleMs?: readonly number[]
    /** BullMQ's key prefix (tests on a shared Redis). */
    jobsPrefix?: string
  } = {},
): Promise<TestServer> {
  const app = buildApp({
    config: { ...parseConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', SECRET_KEY: TEST_SERVER_SECRET_KEY, ...options.env }), port: 0, host: options.env?.HOST ?? '127.0.0.1' },
    db,
    logger: options.logger ?? createLogger('silent'),
    demoToken: options.demoToken,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.importFormats ? { importFormats: options.importFormats } : {}),
    ...(options.importRun ? { importRun: options.importRun } : {}),
    ...(options.dav ? { dav: options.dav } : {}),
    ...(options.syncers ? { syncers: options.syncers } : {}),
    ...(options.isBudgeted ? { isBudgeted: options.isBudgeted } : {}),
    ...(options.budgets ? { budgets: options.budgets } : {}),
    ...(options.webhookRetryScheduleMs ? { webhookRetryScheduleMs: options.webhookRetryScheduleMs } : {}),
    ...(options.jobsPrefix ? { jobsPrefix: options.jobsPrefix } : {}),
  })
  const { url, metricsUrl } = await app.start()
  return {
    app,
    url,
    metricsUrl,
    async query(query, variables, token) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      })
      return (await response.json()) as GraphQLResponse<any>
    },
    close: () => app.stop(),
  }
}
