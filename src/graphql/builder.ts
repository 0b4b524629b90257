/**
 * The Pothos schema builder: Prisma-backed object types, Relay nodes/connections, query cost,
 * and scope auth (a field that needs a viewer declares `authScopes: { authenticated: true }`,
 * a partner scope `{ scope: 'contacts:read' }` or the user's own session `{ session: true }`,
 * or is built with `t.withAuth(...)` to see an {@link AuthenticatedContext}; see scope-auth.ts).
 */
import SchemaBuilder from '@pothos/core'
import ComplexityPlugin from '@pothos/plugin-complexity'
import PrismaPlugin from '@pothos/plugin-prisma'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import { GraphQLError, GraphQLScalarType } from 'graphql'
import { DateTimeResolver, JSONResolver } from 'graphql-scalars'
import type PrismaTypes from '../generated/pothos-types.ts'
import { getDatamodel } from '../generated/pothos-types.ts'
import { isUuid } from '../db/uuid.ts'
import { parseSuggestionId } from '../suggestions/suggestion-id.ts'
import { notFound } from '../errors.ts'
import { isStorableDate, MAX_DATE, MIN_DATE } from '../validation.ts'
import type { AuthenticatedContext, GraphQLContext } from './context.ts'
import { assertNodeAllowed, authScopesOf, unauthorizedError, type AuthScopes } from './scope-auth.ts'
import type { StagedUpload } from './staged-upload.ts'
import { GLOBAL_ID_FIELDS_PLUGIN } from './global-id-fields.ts'

/** Node types, and the shape of their ids: anything else identifies nothing. */
const NODE_IDS: Record<string, (id: string) => boolean> = {
  Contact: isUuid,
  Group: isUuid,
  User: isUuid,
  Suggestion: (id) => parseSuggestionId(id) !== undefined,
  AuthToken: isUuid,
  ApiKey: isUuid,
  Import: isUuid,
  Account: isUuid,
  WebhookEndpoint: isUuid,
  WebhookDelivery: isUuid,
}

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes
  Context: GraphQLContext
  /** `authenticated`: the request has a viewer; `scope`: its credential has that scope (sessions: all); `session`: it is the user's own session. */
  AuthScopes: AuthScopes
  AuthContexts: { authenticated: AuthenticatedContext; scope: AuthenticatedContext; session: AuthenticatedContext }
  DefaultFieldNullability: false
  Scalars: {
    DateTime: { Input: Date; Output: Date }
    JSON: { Input: unknown; Output: unknown }
    /** A file sent with the GraphQL multipart request spec, stored as it arrived (graphql/upload-plugin.ts). */
    File: { Input: StagedUpload; Output: never }
  }
}>({
  // Scope auth comes last, so it wraps resolvers inside the others: Relay has decoded a field's global
  // ids before the scope is checked (a malformed id stays BAD_USER_INPUT, as before the plugin), and
  // nothing but argument decoding runs before the check.
  // The global-id plugin comes right after Relay, so its check runs right before Relay decodes: an id that
  // does not decode is BAD_USER_INPUT naming its argument (global-id-fields.ts).
  plugins: [ComplexityPlugin, PrismaPlugin, RelayPlugin, GLOBAL_ID_FIELDS_PLUGIN, ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // A subscription is checked when it is created, not at its first event: an anonymous one never starts.
    authorizeOnSubscribe: true,
    authScopes: authScopesOf,
    // Anonymous: UNAUTHENTICATED. A credential without the field's scope: FORBIDDEN naming it, for that field only.
    unauthorizedError: (_parent, context, _info, result) => unauthorizedError(context, result),
  },
  // The cost of a query (src/graphql/limits/query-cost.ts): a field costs 1 and a list multiplies its
  // selection by 10, unless the field says better (`contacts` by `first`). The limit is checked
  // before execution by the limits' plugin, with the variables, not by this plugin at resolve time.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10 },
  prisma: {
    // One schema serves many databases (PGlite, PostgreSQL, one per test): the client comes with the request.
    client: (context) => context.prisma,
    dmmf: getDatamodel(),
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    // A connection's field multiplies by its page size: its edges must not multiply again.
    edgesFieldOptions: { complexity: { field: 1, multiplier: 1 } },
    cursorType: 'String',
    // Every node type loads with the viewer's userId in its `where`. An unknown
    // id and another user's id give the same NOT_FOUND: existence never leaks.
    nodeQueryOptions: {
      authScopes: { authenticated: true },
      resolve: async (_root, args, context, _info, resolveNode) => {
        // A malformed id or an unknown type identifies nothing: NOT_FOUND, like a missing row.
        if (!Object.hasOwn(NODE_IDS, args.id.typename) || !NODE_IDS[args.id.typename]!(args.id.id)) throw notFound('node')
        // Each type needs its scope (a Contact contacts:read...), checked before any read.
        assertNodeAllowed(context, args.id.typename)
        const node = await resolveNode(args.id)
        if (node === null || node === undefined) throw notFound('node')
        return node
      },
    },
    nodesQueryOptions: false,
  },
})

/** Refuses a date outside the years 1000-9999: PostgreSQL has no year 0, and far dates break date arithmetic. */
function bounded(date: Date): Date {
  if (!isStorableDate(date)) {
    throw new GraphQLError(`DateTime must be between ${MIN_DATE.toISOString()} and ${MAX_DATE.toISOString()}`)
  }
  return date
}

/** graphql-scalars' RFC 3339 DateTime, bounded to the dates the database and the engine handle. */
const BoundedDateTime = new GraphQLScalarType<Date, Date>({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => bounded(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => bounded(DateTimeResolver.parseLiteral(ast, variables)),
})

builder.addScalarType('DateTime', BoundedDateTime)
builder.addScalarType('JSON', JSONResolver)
builder.queryType({})
builder.mutationType({})
