/** The context of a GraphQL operation, on every transport (HTTP, SSE, graphql-ws), built in app.ts. */
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { ChangePubSub, ChangeSource } from '../pubsub/changes.ts'
import type { SuggestionEngine } from '../suggestions/generator.ts'
import type { WalkSharing } from '../suggestions/walk-sharing.ts'
import type { AdmissionControl } from '../suggestions/admission.ts'
import type { SubscriptionLimiter } from '../suggestions/subscription-limit.ts'
import type { LiveStreamStats } from '../suggestions/live.ts'
import type { AnnounceChange } from '../changes/announce.ts'
import type { Clock } from '../clock.ts'
import type { Credential } from '../auth/authenticate.ts'
import type { TokenWatch } from '../auth/token-watch.ts'
import type { Quotas, RequestLimits } from '../config.ts'
import type { UploadLimits } from '../imports/upload.ts'
import type { DavServices } from '../accounts/accounts.ts'
import type { WebhookEndpointDeps } from '../webhooks/endpoints.ts'

/** What the import mutations need: the upload limits and the job queue. */
export interface ImportServices {
  limits: UploadLimits
  /** Queues the import job (Jobs.enqueueImport). */
  enqueue(importId: string): Promise<void>
}

/** What the account mutations need: the DAV wire, the account quota and the sync job queue. */
export interface AccountServices {
  dav: DavServices
  /** MAX_ACCOUNTS_PER_USER. */
  maxAccountsPerUser: number
  /** Queues the account's sync (Jobs.enqueueSync). */
  enqueueSync(accountId: string, options?: { delayMs?: number }): Promise<void>
}

/**
 * What every resolver sees. `userId` is null for an anonymous request; fields that need a
 * viewer declare the `authenticated` scope (builder.ts) and then see {@link AuthenticatedContext}.
 */
export interface GraphQLContext {
  prisma: PrismaClient
  userId: string | null
  /** Where resolvers read the time (never `new Date()`). */
  clock: Clock
  /** Told by the domain writes (they take the context as their `WriteDeps`): regenerates, notifies live streams. */
  announce: AnnounceChange
  requestId: string
  logger: Logger
  /** Runs the `suggestions` subscription's walks: the server's walk sharing over the engine (tests may pass a bare engine). */
  suggestions: SuggestionEngine | WalkSharing
  pubsub: ChangePubSub
  /** A user's change notices (the change bus's: one listener per user on this process, fanned out to its live streams). */
  userChanges: (userId: string) => ChangeSource
  subscriptionLimiter: SubscriptionLimiter
  admission: AdmissionControl
  /** The token this request authenticated with (null when anonymous): `userId` is its user. */
  credential: Credential | null
  /** Ends long-lived streams whose token dies; told at once when this process revokes one. */
  tokenWatch: TokenWatch
  /** Per-user quotas the create mutations enforce. */
  quotas: Quotas
  /** The document limits (MAX_DOCUMENT_BYTES, MAX_TOKENS, ...): what a trusted document must pass to be registered. */
  requestLimits: RequestLimits
  /** MAX_TOKENS_PER_USER: active session tokens and API keys one user may hold (createApiKey). */
  maxTokensPerUser: number
  /** Uploads and the import job (importContacts, importCalendar). */
  imports: ImportServices
  /** CardDAV / CalDAV accounts (connectAccount, syncAccount, ...). */
  accounts: AccountServices
  /** Webhook endpoints (createWebhookEndpoint, ...): the URL policy, the quota, the sealing of secrets. */
  webhooks: Omit<WebhookEndpointDeps, 'prisma'> & {
    /** Queues a delivery's job now (Jobs.enqueueWebhookDelivery): redeliverWebhook, sendTestWebhook. */
    enqueueDelivery(deliveryId: string): Promise<void>
  }
  /**
   * The HTTP request, put in the context by Yoga (absent over graphql-ws). Its
   * `signal` aborts when the client goes: streams end with it, whether or not
   * the transport ever took them.
   */
  request?: Request
  /** SUGGESTION_HORIZON_DAYS in ms: how long a dismissal (and a slot-less acceptance at most) lasts. */
  suggestionHorizonMs: number
  /** How long a stream's client may take nothing before the stream ends (STREAM_WRITE_TIMEOUT_MS). */
  streamWriteTimeoutMs: number
  /** This process's counts of live suggestion streams (for /metrics). */
  liveStreams: LiveStreamStats
  /** PUBLIC_URL's origin, for the links the API hands out (the calendar feed); unset: the request's origin. */
  publicUrl?: string | undefined
}

/** The context of a field behind the `authenticated` scope: there is a viewer. */
export type AuthenticatedContext = GraphQLContext & { userId: string }

/** The refusal of a field that needs a viewer, to an anonymous request. */
export const UNAUTHENTICATED_MESSAGE = 'Sign in: send a valid token as `Authorization: Bearer <token>`'

/**
 * The viewer, for the node loaders (a prismaNode's `findUnique`, a node's `loadOne`), whose context
 * the scope's types cannot narrow: they only run below fields that have the `authenticated` scope
 * (`node`, and the fields returning nodes). Anonymous here is a bug of ours, so a plain Error
 * (masked as INTERNAL_SERVER_ERROR), never a query without the owner in its `where`.
 */
export function viewerOf(context: GraphQLContext): string {
  if (context.userId === null) throw new Error('a node loader ran without the authenticated scope')
  return context.userId
}
