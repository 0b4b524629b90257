/**
 * Wires the server, and does nothing else: the domain services (engine, jobs, change bus and
 * announcer, token watch), graphql-yoga with the Pothos schema, its context (auth from the bearer
 * token, the clock), the error vocabulary and limits, graphql-ws, and the HTTP routes (src/http/).
 * `buildApp` is shared by `main.ts` and the tests, so both run the same wiring.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { hostname } from 'node:os'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import { authenticate } from './auth/authenticate.ts'
import { TokenWatch } from './auth/token-watch.ts'
import { grants } from './auth/scopes.ts'
import type { Config } from './config.ts'
import type { Database } from './db/database.ts'
import type { GraphQLContext } from './graphql/context.ts'
import { maskError, useClientErrors, yogaLogger } from './graphql/errors.ts'
import { useAnonymousSurfaceGuard } from './graphql/anonymous-surface.ts'
import { useIntrospectionScope } from './graphql/introspection-scope.ts'
import { corsPolicy } from './http/cors.ts'
import { useCsrfPreventionForBodies } from './http/csrf.ts'
import { graphiqlOptions } from './http/graphiql.ts'
import { serveHealth } from './http/health.ts'
import { listen } from './http/listen.ts'
import { METRICS_PATH, metricsEndpoints } from './http/metrics-endpoint.ts'
import { serveDevToken } from './http/dev-token.ts'
import { routeRequests } from './http/routes.ts'
import { exportRoutes } from './http/export-routes.ts'
import { ExportLimiter } from './exports/export-limit.ts'
import { createWebApp, WEB_DIST } from './http/web-app.ts'
import { oncePerRequest } from './http/once-per-request.ts'
import { requestIdFrom } from './http/request-id.ts'
import { schema } from './graphql/schema.ts'
import { attachGraphQLWs } from './graphql/websocket.ts'
import { useStreamAuthorization } from './graphql/stream-authorization.ts'
import { createTrustedDocuments } from './graphql/trusted-documents.ts'
import { yogaLimitOptions } from './graphql/limits/index.ts'
import { createCredentialBudgets, type BudgetCredential, type CredentialBudgets } from './graphql/limits/budget.ts'
import { useCredentialBudgets } from './graphql/limits/budget-plugin.ts'
import { systemClock, type Clock } from './clock.ts'
import { DAY_MS } from './time.ts'
import { createChangeAnnouncer, type AnnounceChange } from './changes/announce.ts'
import { ChangeVersions } from './changes/change-versions.ts'
import { createEngineCaches } from './suggestions/engine-caches.ts'
import { WalkSharing } from './suggestions/walk-sharing.ts'
import { MemoryCircuitBreaker } from './memory/circuit-breaker.ts'
import { MemoryMonitor, readProcessHeap } from './memory/memory-monitor.ts'
import { createMetrics } from './metrics/metrics.ts'
import { createSuggestionEngine } from './suggestions/generator.ts'
import { useCursorSecret } from './cursors/cursor-codec.ts'
import { createChangeBus, publishSyncProgress, publishTokenRevoked, USER_CHANGED, watchTokenRevocations } from './pubsub/changes.ts'
import { SubscriptionLimiter } from './suggestions/subscription-limit.ts'
import { AdmissionControl } from './suggestions/admission.ts'
import { LiveStreamStats } from './suggestions/live.ts'
import { createJobs, type Jobs } from './jobs/jobs.ts'
import type { Logger } from './logger.ts'
import { serveImports } from './http/import-routes.ts'
import { isMultipartPost, useStreamingUploads } from './graphql/upload-plugin.ts'
import { importFormats as configuredImportFormats } from './imports/formats.ts'
import { runImport, type ImportFormats } from './imports/run-import.ts'
import { DEFAULT_MAX_IMPORTS_IN_FLIGHT, DEFAULT_MAX_IMPORTS_PER_DAY, type UploadLimits } from './imports/upload.ts'
import type { DavServices } from './accounts/accounts.ts'
import { runAccountSync, type Syncers } from './sync/run-sync.ts'
import { createDavServices } from './accounts/dav-services.ts'
import { syncAddressBook } from './sync/contacts-sync.ts'
import { syncCalendar } from './sync/calendar-sync.ts'
import { OAuthServer } from './oauth/oauth-server.ts'
import { readGrantStates } from './oauth/grants.ts'
import { oauthRoutes } from './http/oauth-routes.ts'
import { openWebhookSecret, sealWebhookSecret } from './webhooks/webhook-secrets.ts'
import { createWebhookEvents, SWEEP_INTERVAL_MS, SWEEP_OVERDUE_MS } from './webhooks/webhook-events.ts'
import { attemptDelivery, DELIVERY_TIMEOUT_MS } from './webhooks/deliver.ts'
import { createWebhookFetch } from './webhooks/webhook-url.ts'


/** The host of exported UIDs (`<id>@<host>`) when PUBLIC_URL is unset: stable, so a calendar app never sees an event twice. */
const DEFAULT_UID_DOMAIN = 'suggestions.invalid'

export interface AppOptions {
  config: Config
  db: Database
  logger: Logger
  /** Filled into GraphiQL's headers tab and handed to the web app (development only, loopback clients only). */
  demoToken?: string | undefined
  /** Where the built web client is (default `web/dist`). */
  webDist?: string
  /** Leaves the request limits out (bench/limits.ts measures their cost); never in production. */
  withoutRequestLimits?: boolean
  /** Where the server reads the time (default: the system clock); resolvers see it as `context.clock`. */
  clock?: Clock
  /** The readers and writers of imports (default: imports/formats.ts); tests pass small fakes. */
  importFormats?: ImportFormats
  /** Options of the import job (tests: smaller batches, other announcement intervals). */
  importRun?: { batchSize?: number; announceEveryMs?: number }
  /** The DAV wire (default: accounts/dav-services.ts bound to the config; tests may pass their own). */
  dav?: DavServices
  /** The collection syncers the sync job runs (default: sync/contacts-sync.ts and sync/calendar-sync.ts). */
  syncers?: Syncers
  /**
   * Which credentials have partner budgets (default: API keys and OAuth apps). Tests that predate
   * API keys pass `() => true` to budget a session token.
   */
  isBudgeted?: (credential: BudgetCredential) => boolean
  /**
   * The partner budgets (default: on REDIS_URL's Redis when set, in-process otherwise); tests and
   * the bench pass budgets on a Redis of their own with a key prefix of their own. stop() closes them.
   */
  budgets?: CredentialBudgets
  /** The webhook retry schedule, ms before each attempt (default the Standard Webhooks one); tests pass a short one. */
  webhookRetryScheduleMs?: readonly number[]
  /** BullMQ's key prefix (default `bull`); tests on a shared Redis give each server its own. */
  jobsPrefix?: string
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>
  server: Server
  /** Where suggestion walks wait for their place (exposed for tests and the load bench). */
  admission: AdmissionControl
  /** The subscription's walks, shared per user and input (exposed for tests: walks started, streams that joined one). */
  walks: WalkSharing
  /** Background regeneration of stored suggestions (BullMQ with Redis, in-process without). */
  jobs: Jobs
  /** Exports under way per user (exposed for tests: a leaked place shows here). */
  exportLimiter: ExportLimiter
  /** Open suggestion streams per user (exposed for tests: a leaked place shows here). */
  subscriptionLimiter: SubscriptionLimiter
  /** The partner credentials' budgets (exposed for tests and the bench). */
  budgets: CredentialBudgets
  /** Change listeners of a user's live streams in this process (exposed for tests: a leaked listener shows here). */
  changeListeners(userId: string): number
  /**
   * Listens on the configured port (0: any free port) and returns the URL of the GraphQL
   * endpoint, and that of `/metrics` when it has a listener of its own (METRICS_PORT).
   */
  start(): Promise<{ url: string; port: number; metricsUrl?: string }>
  /**
   * Stops accepting connections, closes WebSockets with 1001, gives requests
   * `graceMs` (default 2 s) before cutting open streams, stops the jobs, closes pub/sub.
   * Leaves the database to its owner.
   */
  stop(options?: { graceMs?: number }): Promise<void>
}

export function buildApp({
  config,
  db,
  logger,
  demoToken,
  webDist = WEB_DIST,
  withoutRequestLimits = false,
  clock = systemClock,
  importFormats = configuredImportFormats({ quotas: config.quotas, horizonDays: config.suggestionHorizonDays }),
  importRun = {},
  dav: davOption,
  isBudgeted,
  budgets: budgetsOption,
  webhookRetryScheduleMs,
  jobsPrefix,
  syncers = {
    ADDRESS_BOOK: (deps, account, collection, session) => syncAddressBook({ ...deps, maxContacts: config.quotas.contacts }, account, collection, session),
    CALENDAR: (deps, account, collection, session) => syncCalendar({ ...deps, maxEvents: config.quotas.calendarEvents }, account, collection, session),
  },
}: AppOptions): App {
  // Without SECRET_KEY (tests) the credentials are sealed under a key of this process: after a restart its
  // accounts need re-authentication. main.ts always passes one (DATA_DIR/secret-key outside production).
  const dav = davOption ?? createDavServices(config.sync, config.secretKey ?? randomBytes(32).toString('base64url'), () => clock.now())
  const development = config.nodeEnv === 'development'
  // Webhook secrets are sealed under SECRET_KEY; without one (tests) under a key of this process, like DAV credentials.
  const webhookSecretKey = config.secretKey ?? randomBytes(32).toString('base64url')
  const webhookServices = {
    urlPolicy: { production: config.nodeEnv === 'production', allowPrivate: config.webhooks.allowPrivateUrls },
    maxEndpointsPerUser: config.webhooks.maxEndpointsPerUser,
    seal: (secret: string) => sealWebhookSecret(webhookSecretKey, secret),
  }
  // Deliveries go through the outbound guard (checked again where each socket connects: DNS rebinding).
  const webhookFetch = createWebhookFetch(webhookServices.urlPolicy, DELIVERY_TIMEOUT_MS)
  // Cursors signed by one process of a deployment are read by the others: they share SECRET_KEY.
  if (config.secretKey) useCursorSecret(config.secretKey)
  const metrics = createMetrics()
  const changes = createChangeBus({ redisUrl: config.redisUrl })
  const pubsub = changes.pubsub
  // Every change notice of any user, from any process, moves the user's version here: what the engine
  // cached of the user is dropped, and no stream joins a walk that started before the change.
  const versions = new ChangeVersions()
  const watchingChanges = changes.watchAllUsers({ changed: (userId) => versions.bump(userId), reliable: (yes) => versions.setTrusted(yes) })
  watchingChanges.catch((error: unknown) => logger.error({ err: error }, 'change notices of all users not watched: caches stay off'))
  const subscriptionLimiter = new SubscriptionLimiter(config.subscriptionsPerUser)
  const admission = new AdmissionControl({ concurrency: config.generationConcurrency, queueLimit: config.generationQueueLimit })
  const liveStreams = new LiveStreamStats()
  metrics.observeStreams({ open: () => subscriptionLimiter.total(), waitingForChanges: () => liveStreams.waiting, walks: () => admission.stats })
  const caches = createEngineCaches({
    prisma: db.prisma,
    versions,
    sizes: config.cacheSizes,
    horizonDays: config.suggestionHorizonDays,
    dismissForMs: config.suggestionHorizonDays * DAY_MS,
  })
  const engine = createSuggestionEngine({
    prisma: db.prisma,
    contactRows: db,
    now: () => clock.now(),
    defaultSlots: caches.defaultSlots,
    userTimezone: caches.userTimezone,
    suggestionState: caches.suggestionState,
    breaker: new MemoryCircuitBreaker({
      readHeap: readProcessHeap,
      throttleRatio: config.memoryThrottleRatio,
      openRatio: config.memoryOpenRatio,
    }),
    openTimeoutMs: config.memoryOpenTimeoutMs,
    slotCapacity: config.slotCapacity,
    dismissForMs: config.suggestionHorizonDays * DAY_MS,
    monitor: new MemoryMonitor(),
    metrics,
    maxSlots: config.maxSlots,
    walkTimeBudgetMs: config.walkTimeBudgetMs,
  })
  // The subscription's walks: one per user and input at a time on this process, admitted per walk.
  const suggestions = new WalkSharing({ engine, admission, versions, now: () => clock.now().getTime() })
  const jobs = createJobs({
    redisUrl: config.redisUrl,
    prefix: jobsPrefix,
    prisma: db.prisma,
    engine,
    logger,
    concurrency: config.jobConcurrency,
    refreshCron: config.suggestionRefreshCron,
    // The daily refresh also extends imported recurring events to the new horizon.
    calendarHorizonDays: config.suggestionHorizonDays,
    maxCalendarEvents: config.quotas.calendarEvents,
    // Bound late, as below: extended series are calendar changes of their users.
    announce: (userId, what) => announce(userId, what),
    // Running jobs get half of the shutdown's time, then they are aborted (they are idempotent).
    closeTimeoutMs: config.shutdownTimeoutMs / 2,
    // A regeneration waits 5 s after a write: a burst of writes gives one job, and it does not
    // compete with the live updates those writes cause (sent within a second; PGlite runs one query at a time).
    debounceMs: 5000,
    // Bound late: the import job announces through `announce`, which needs the jobs.
    runImport: (importId, attempt) =>
      runImport({ prisma: db.prisma, formats: importFormats, announce, pubsub, now: () => clock.now(), logger, ...importRun }, importId, attempt),
    // Account syncs: one lease owner per run (host, process, run), progress published for syncProgress.
    runSync: (accountId: string, { signal }: { signal: AbortSignal }) =>
      runAccountSync(
        {
          prisma: db.prisma,
          dav,
          announce,
          logger,
          now: () => clock.now(),
          horizonMs: config.suggestionHorizonDays * DAY_MS,
          publish: (id, notice) => publishSyncProgress(pubsub, id, notice),
          metrics,
        },
        accountId,
        { owner: `${hostname()}:${process.pid}:${randomUUID()}`, syncers, signal },
      ),
    syncIntervalMs: config.sync.intervalMs,
    // Webhooks: one job per delivery; suggestions.updated after each regeneration (debounced per user already).
    runWebhookDelivery: (deliveryId) =>
      attemptDelivery(
        {
          prisma: db.prisma,
          fetch: webhookFetch,
          open: (sealed) => openWebhookSecret(webhookSecretKey, sealed),
          now: () => clock.now(),
          logger: logger.child({ component: 'webhooks' }),
          onAttempt: (attempt) => metrics.recordWebhookAttempt(attempt),
          ...(webhookRetryScheduleMs ? { schedule: webhookRetryScheduleMs } : {}),
        },
        deliveryId,
      ),
    onJobDone: (outcome) => {
      if (outcome.job !== 'regenerate' || !outcome.ok) return
      webhookEvents.suggestionsRegenerated(outcome.userId).catch((error: unknown) => logger.error({ err: error, userId: outcome.userId }, 'suggestions.updated not queued'))
    },
  })
  metrics.observeWebhooks(() => db.prisma.webhookDelivery.count({ where: { state: 'PENDING' } }))
  let webhookSweep: NodeJS.Timeout | undefined
  const webhookEvents = createWebhookEvents({
    prisma: db.prisma,
    enqueue: (deliveryId, delayMs) => jobs.enqueueWebhookDelivery(deliveryId, { delayMs }),
    now: () => clock.now(),
    logger: logger.child({ component: 'webhooks' }),
  })
  // Every domain write announces itself through this: live streams hear of it, a regeneration is queued.
  const announceChange = createChangeAnnouncer({ pubsub, jobs, logger, versions })
  const announce: AnnounceChange = (userId, what, event) => {
    announceChange(userId, what)
    webhookEvents.changed(userId, event)
    // An accepted, dismissed or undone suggestion: the accounts writing them to a calendar sync now.
    if (what === 'suggestion') {
      db.prisma.account
        .findMany({ where: { userId, writeCalendarUrl: { not: null } }, select: { id: true } })
        .then((accounts) => Promise.all(accounts.map((account) => jobs.enqueueSync(account.id))))
        .catch((error: unknown) => logger.warn({ err: error, userId }, 'could not queue the calendar write of a suggestion'))
    }
  }
  const tokenWatch = new TokenWatch({
    prisma: db.prisma,
    intervalMs: config.tokenRecheckIntervalMs,
    now: () => clock.now(),
    logger: logger.child({ component: 'token-watch' }),
    // A revocation here ends the token's streams on every process at once (Redis), not at their next check.
    broadcast: (tokenId) => publishTokenRevoked(pubsub, tokenId),
    // Connected apps' streams run on OAuth grants (issue 16): re-checked in their own table.
    readers: { oauth: readGrantStates(db.prisma) },
  })
  const stopWatchingRevocations = watchTokenRevocations(
    pubsub,
    (tokenId) => tokenWatch.revokedElsewhere(tokenId),
    (error) => logger.warn({ err: error }, 'token revocations of other processes not heard: their streams end at the periodic re-check'),
  )
  // Partner apps (issue 16): oidc-provider under /oauth; its access tokens authenticate like our own.
  const oauth = new OAuthServer({
    prisma: db.prisma,
    secretKey: config.secretKey ?? randomBytes(32).toString('base64url'),
    publicUrl: config.publicUrl,
    logger: logger.child({ component: 'oauth' }),
    onGrantRevoked: (grantId) => tokenWatch.revoked(grantId),
  })
  const uploadLimits: UploadLimits = { maxBytes: config.importMaxBytes, maxInFlight: DEFAULT_MAX_IMPORTS_IN_FLIGHT, maxPerDay: DEFAULT_MAX_IMPORTS_PER_DAY }
  // Multipart uploads stream into storage with limits of their own (graphql/upload-plugin.ts), not the body limit.
  const limits = yogaLimitOptions(config.requestLimits, !withoutRequestLimits, isMultipartPost)
  const production = config.nodeEnv === 'production'
  const credentialOfHeader = (header: unknown) => authenticate(db.prisma, header, clock.now(), { verifyOAuthToken: (token) => oauth.verify(token) })
  // Production's guard needs the viewer before validation, the context after: one lookup per request.
  const credentialOfRequest = oncePerRequest((request) => credentialOfHeader(request.headers.get('authorization')))
  const userIdOfRequest = async (request: Request) => (await credentialOfRequest(request))?.userId ?? null
  // Partner credentials' budgets, shared by every process through Redis (src/graphql/limits/budget.ts).
  const budgets = budgetsOption ?? createCredentialBudgets({ limits: config.partnerBudgets, redisUrl: config.redisUrl, logger: logger.child({ component: 'budgets' }) })
  // Partner apps' trusted documents (issue 16): an id instead of the text, and apps that send nothing else.
  const trustedDocuments = createTrustedDocuments(db.prisma)
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // GraphQL over HTTP's persisted-document parameter (a trusted document's id), beside Apollo's extension.
    extraParamNames: ['documentId'],
    landingPage: false,
    logging: yogaLogger(logger.child({ component: 'yoga' })),
    maskedErrors: { maskError: maskError(logger), isDev: false },
    cors: corsPolicy(config.corsOrigins),
    // The request limits (src/graphql/limits/): their plugins, a document cache bounded in bytes.
    ...limits,
    plugins: [
      useClientErrors(logger, { hideSuggestionsFromAnonymous: production }),
      useStreamAuthorization(tokenWatch),
      useCsrfPreventionForBodies(),
      // Before every limit: the text an id resolves to is then sized, parsed, validated and costed like any other.
      trustedDocuments.plugin(credentialOfRequest),
      ...(production ? [useAnonymousSurfaceGuard({ userIdOfRequest })] : []),
      // Partner credentials introspect with the scope schema:introspect only (every environment).
      useIntrospectionScope({ credentialOfRequest }),
      ...limits.plugins,
      // After the cost limit (a document over it spends no budget) and the per-user operation bound.
      ...(withoutRequestLimits
        ? []
        : [useCredentialBudgets({ budgets, credentialOfRequest, logger: logger.child({ component: 'budgets' }), ...(isBudgeted ? { isBudgeted } : {}) })]),
      // After the limits' body check (which leaves multipart alone), so its parser is the one Yoga runs.
      useStreamingUploads({
        prisma: db.prisma,
        userIdOfRequest,
        mayImport: async (request) => grants((await credentialOfRequest(request))?.scopes ?? null, 'imports:write'),
        limits: uploadLimits,
        maxFieldBytes: 2 * config.requestLimits.maxDocumentBytes + 16_384,
        maxTokens: config.requestLimits.maxTokens,
        now: () => clock.now(),
        logger: logger.child({ component: 'uploads' }),
      }),
    ],
    ...graphiqlOptions({ enabled: development, demoToken }),
    // Over HTTP the token comes in the Authorization header; over graphql-ws in connectionParams.
    context: async (initial: { request?: Request; connectionParams?: Record<string, unknown> }): Promise<GraphQLContext> => {
      const { request, connectionParams } = initial
      const requestId = requestIdFrom(request?.headers.get('x-request-id'))
      const credential = request ? await credentialOfRequest(request) : await credentialOfHeader(connectionParams?.authorization)
      const userId = credential?.userId ?? null
      return {
        prisma: db.prisma,
        userId,
        clock,
        announce,
        requestId,
        logger: logger.child({ requestId }),
        suggestions,
        pubsub,
        userChanges: changes.userChanges,
        subscriptionLimiter,
        admission,
        credential,
        tokenWatch,
        quotas: config.quotas,
        requestLimits: config.requestLimits,
        maxTokensPerUser: config.maxTokensPerUser,
        imports: { limits: uploadLimits, enqueue: (importId) => jobs.enqueueImport(importId) },
        accounts: { dav, maxAccountsPerUser: config.sync.maxAccountsPerUser, enqueueSync: (accountId, options) => jobs.enqueueSync(accountId, options) },
        webhooks: { ...webhookServices, enqueueDelivery: (deliveryId) => jobs.enqueueWebhookDelivery(deliveryId) },
        streamWriteTimeoutMs: config.streamWriteTimeoutMs,
        suggestionHorizonMs: config.suggestionHorizonDays * DAY_MS,
        liveStreams,
        publicUrl: config.publicUrl,
      }
    },
  })

  const exportLimiter = new ExportLimiter(config.exportsPerUser)
  // The file routes spend the same budgets as GraphQL (src/http/route-budget.ts); off with the request limits.
  const routeBudgets = withoutRequestLimits ? undefined : { budgets, isBudgeted }
  const webApp = createWebApp({ demoToken: development ? demoToken : undefined }, webDist)
  if (!webApp) logger.warn({ webDist }, 'the web client is not built (npm run build); serving the API only')

  const metricsEndpoint = metricsEndpoints(metrics.registry, { token: config.metricsToken, port: config.metricsPort, production })
  const metricsServer = metricsEndpoint.server
  // A GET carries its document in the URL, URL-encoded (up to 3 bytes a byte): Node's default 16 kB of
  // headers would refuse it with an empty 431 before the document limit could answer with its code.
  const server = createServer(
    { maxHeaderSize: 3 * config.requestLimits.maxDocumentBytes + 16_384 },
    routeRequests({
      health: serveHealth(db),
      metrics: metricsEndpoint.onMainListener,
      imports: serveImports({
        prisma: db.prisma,
        authenticate: credentialOfHeader,
        enqueueImport: (importId) => jobs.enqueueImport(importId),
        limits: uploadLimits,
        clock,
        logger: logger.child({ component: 'imports' }),
        budgets: routeBudgets,
      }),
      exports: exportRoutes({
        prisma: db.prisma,
        clock,
        logger: logger.child({ component: 'exports' }),
        limiter: exportLimiter,
        uidDomain: config.publicUrl ? new URL(config.publicUrl).host : DEFAULT_UID_DOMAIN,
        authenticate: credentialOfHeader,
        budgets: routeBudgets,
      }),
      devToken:
        development && config.secretKey
          ? serveDevToken({ prisma: db.prisma, secretKey: config.secretKey, maxActive: config.maxTokensPerUser, logger: logger.child({ component: 'dev-token' }) })
          : undefined,
      oauth: oauthRoutes({ oauth, prisma: db.prisma, authenticate: credentialOfHeader, tokenWatch, logger: logger.child({ component: 'oauth' }) }),
      webApp,
      graphql: yoga,
      streamWriteTimeoutMs: config.streamWriteTimeoutMs,
    }),
  )
  // Keep idle connections longer than load balancers (60 s is common) and clients do: a server
  // closing a kept-alive socket just as a client reuses it fails that request ("other side closed").
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  const closeWebSockets = attachGraphQLWs(server, yoga, db, logger, tokenWatch, clock, config.requestLimits.wsMaxPayloadBytes, credentialOfHeader, trustedDocuments)
  return {
    yoga,
    server,
    admission,
    walks: suggestions,
    jobs,
    subscriptionLimiter,
    exportLimiter,
    budgets,
    changeListeners: (userId) => changes.listenerCount(`${USER_CHANGED}:${userId}`),
    start: async () => {
      await jobs.start()
      // Deliveries survive a restart: those still PENDING are queued again (a BullMQ job still there is not added twice).
      await webhookEvents.resumePending().catch((error: unknown) => logger.error({ err: error }, 'pending webhook deliveries not resumed'))
      // And those whose job was lost since (given up while the database was down, a Redis emptied) are queued again.
      webhookSweep ??= setInterval(() => {
        webhookEvents.resumePending({ overdueMs: SWEEP_OVERDUE_MS }).catch((error: unknown) => logger.error({ err: error }, 'overdue webhook deliveries not resumed'))
      }, SWEEP_INTERVAL_MS).unref()
      await budgets.ready()
      const { port, origin } = await listen(server, config.port, config.host)
      oauth.listeningAt(origin)
      if (!metricsServer || config.metricsPort === undefined) return { port, url: `${origin}/graphql` }
      return { port, url: `${origin}/graphql`, metricsUrl: `${(await listen(metricsServer, config.metricsPort, config.host)).origin}${METRICS_PATH}` }
    },
    stop: async ({ graceMs = 2000 } = {}) => {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
      if (metricsServer?.listening) {
        metricsServer.close()
        metricsServer.closeAllConnections()
      }
      // graphql-ws clients get 1001 "Going away": they reconnect (elsewhere) and resume from their cursor.
      await closeWebSockets()
      server.closeIdleConnections()
      // Requests under way get `graceMs` to finish; then open streams (SSE) are cut.
      const cut = setTimeout(() => server.closeAllConnections(), graceMs)
      await closed.finally(() => clearTimeout(cut))
      stopWatchingRevocations()
      clearInterval(webhookSweep)
      tokenWatch.stop()
      oauth.stop()
      await jobs.close()
      await changes.close()
      await budgets.close()
    },
  }
}
