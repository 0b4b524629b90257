/** The GraphQL schema: one file per domain type, imported for their side effects. */
import { printSchema } from 'graphql'
import { builder } from './builder.ts'
import { describeRequirements } from './scope-auth.ts'
import './types/enums.ts'
import './types/user.ts'
import './types/group.ts'
import './types/contact.ts'
import './types/calendar.ts'
import './types/suggestion.ts'
import './types/auth-token.ts'
import './types/api-key.ts'
import './types/import.ts'
import './types/calendar-feed.ts'
import './types/account.ts'
import './types/connected-app.ts'
import './types/trusted-document.ts'
import './types/webhook.ts'

/** Each field's description ends with the scope it needs (scope-auth.ts). */
export const schema = describeRequirements(builder.toSchema())

/** The SDL as committed in schema.graphql. */
export function printSchemaSDL(): string {
  return `${printSchema(schema)}\n`
}
