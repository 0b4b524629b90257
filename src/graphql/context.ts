import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { SuggestionEngine } from '../suggestions/generator.ts'
import { ClientError } from '../errors.ts'

/** What every resolver sees. `userId` is null for an anonymous request. */
export interface GraphQLContext {
  prisma: PrismaClient
  userId: string | null
  requestId: string
  logger: Logger
  suggestions: SuggestionEngine
}

/** The signed-in user's id, or UNAUTHENTICATED. */
export function requireUser(context: GraphQLContext): string {
  if (context.userId === null) {
    throw new ClientError('UNAUTHENTICATED', 'Sign in: send a valid token as `Authorization: Bearer <token>`')
  }
  return context.userId
}
