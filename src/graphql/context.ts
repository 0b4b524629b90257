import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { ChangePubSub } from '../pubsub/changes.ts'
import type { SuggestionEngine } from '../suggestions/generator.ts'
import type { AdmissionControl } from '../suggestions/admission.ts'
import type { SubscriptionLimiter } from '../suggestions/subscription-limit.ts'
import { ClientError } from '../errors.ts'

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
}

/** Tells the user's live subscriptions that their data changed; passes the value through. */
export function announceChange<T>(context: GraphQLContext, userId: string, what: string): (value: T) => T {
  return (value) => {
    context.pubsub.publish('user-changed', userId, { what })
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
