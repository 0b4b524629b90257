import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { ChangePubSub } from '../pubsub/changes.ts'
import type { SuggestionEngine } from '../suggestions/generator.ts'
import type { Jobs } from '../jobs/jobs.ts'
import type { AdmissionControl } from '../suggestions/admission.ts'
import type { SubscriptionLimiter } from '../suggestions/subscription-limit.ts'
import { ClientError } from '../errors.ts'
import type { Credential } from '../auth/authenticate.ts'
import type { TokenWatch } from '../auth/token-watch.ts'
import type { Quotas } from '../quotas.ts'

/** What every resolver sees. `userId` is null for an anonymous request. */
export interface GraphQLContext {
  prisma: PrismaClient
  userId: string | null
  requestId: string
  logger: Logger
  suggestions: SuggestionEngine
  pubsub: ChangePubSub
  subscriptionLimiter: SubscriptionLimiter
  admission: AdmissionControl
  jobs: Jobs
  /** The token this request authenticated with (null when anonymous): `userId` is its user. */
  credential: Credential | null
  /** Ends long-lived streams whose token dies; told at once when this process revokes one. */
  tokenWatch: TokenWatch
  /** Per-user quotas the create mutations enforce. */
  quotas: Quotas
  /**
   * The HTTP request, put in the context by Yoga (absent over graphql-ws). Its
   * `signal` aborts when the client goes: streams end with it, whether or not
   * the transport ever took them.
   */
  request?: Request
  /** How long a stream's client may take nothing before the stream ends (STREAM_WRITE_TIMEOUT_MS). */
  streamWriteTimeoutMs: number
}

/**
 * Tells the user's live subscriptions that their data changed, and asks for
 * their stored suggestions to be regenerated (deduplicated per user); passes the value through.
 */
export function announceChange<T>(context: GraphQLContext, userId: string, what: string): (value: T) => T {
  return (value) => {
    context.pubsub.publish('user-changed', userId, { what })
    // Never holds the mutation up: when the queue is unreachable, the daily refresh catches up.
    context.jobs.requestRegeneration(userId).catch((error: unknown) => context.logger.warn({ err: error, userId }, 'regeneration not queued'))
    return value
  }
}

/** The signed-in user's id, or UNAUTHENTICATED. */
export function requireUser(context: GraphQLContext): string {
  if (context.userId === null) {
    throw new ClientError('UNAUTHENTICATED', 'Sign in: send a valid token as `Authorization: Bearer <token>`')
  }
  return context.userId
}
