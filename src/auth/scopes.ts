/**
 * The scopes a partner credential (API key, OAuth access token) is granted: what part of the
 * user's data it may read or change. A user's own session has no scopes: it has full access.
 * The schema tags each field with the scope it needs (`authScopes: { scope: ... }`, builder.ts).
 * A suggestion's `contact` is part of the suggestion: the suggestions scopes read the suggested
 * contacts (only those), not the others (`contacts`, `node` need contacts:read). Without
 * contacts:read, `node` finds only stored suggestions and the suggestions:write mutations only those
 * of contacts that can be suggested (graphql/scope-auth.ts suggestionReachOf): a contact id alone
 * never reads an arbitrary contact (hostile review).
 */
import { badUserInput } from '../errors.ts'

/**
 * Every scope, in the order the docs and the web client list them.
 * `schema:introspect` guards no field of the user's data but the introspection meta-fields
 * (`__schema`, `__type`: src/graphql/introspection-scope.ts).
 */
export const SCOPES = [
  'contacts:read',
  'contacts:write',
  'suggestions:read',
  'suggestions:subscribe',
  'suggestions:write',
  'calendar:read',
  'calendar:write',
  'imports:write',
  'webhooks:manage',
  'schema:introspect',
] as const

export type Scope = (typeof SCOPES)[number]

/** What each scope lets a credential do (the web client's checkbox labels, the docs). */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  'contacts:read': 'Read contacts, their history, groups, tags and sync conflicts',
  'contacts:write': 'Create, update and archive contacts; log interactions; manage groups and tags',
  'suggestions:read': 'Read the suggestions kept by status (accepted, dismissed, snoozed), each with its contact; by id (node), only those kept',
  'suggestions:subscribe': 'Stream the ranked suggestions (the suggestions subscription), each with its contact',
  'suggestions:write': 'Accept, dismiss, snooze, restore and undo the suggestions of contacts that can be suggested (not archived) or that are kept, each answered with its contact',
  'calendar:read': 'See whether the calendar feed is on',
  'calendar:write': 'Set availability; add and remove busy calendar events',
  'imports:write': 'Import contact and calendar files, and follow the imports',
  'webhooks:manage': "Create, list, change, pause, rotate and delete webhook endpoints, read their delivery logs and send them test events and deliveries again; the endpoints receive the user's change events (ids and changed field names, whatever the credential's other scopes)",
  'schema:introspect': 'Introspect the schema (__schema, __type): for tools that read the API, not the user\'s data',
}

const KNOWN: ReadonlySet<string> = new Set(SCOPES)

/** Whether `value` is one of {@link SCOPES}. */
export function isScope(value: string): value is Scope {
  return KNOWN.has(value)
}

/**
 * The scopes of a list as a client sends it: an array of names, or one string of names separated
 * by commas and/or white space (the CLI's `--scopes`). Duplicates collapse; the result is in
 * {@link SCOPES} order. An empty list is allowed here (the caller decides whether it means anything).
 *
 * @throws ClientError BAD_USER_INPUT naming `field` and the first unknown scope.
 */
export function parseScopes(input: string | readonly string[], field = 'scopes'): Scope[] {
  const names = typeof input === 'string' ? input.split(/[\s,]+/) : input
  const wanted = new Set<Scope>()
  for (const raw of names) {
    const name = raw.trim()
    if (name === '') continue
    if (!isScope(name)) {
      const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name
      throw badUserInput(`unknown scope "${shown}": use some of ${SCOPES.join(', ')}`, field)
    }
    wanted.add(name)
  }
  return SCOPES.filter((scope) => wanted.has(scope))
}

/**
 * Scopes as stored (`AuthToken.scopes`): unknown names are dropped, not refused, so a scope
 * removed from a later version takes its access with it instead of breaking the credential.
 */
export function storedScopes(names: readonly string[]): ReadonlySet<Scope> {
  return new Set(names.filter(isScope))
}

/** The message of a FORBIDDEN for a credential without `scope` (GraphQL fields, the import and export routes). */
export const forbiddenScopeMessage = (scope: Scope) => `This credential was not granted the scope ${scope}, which this needs`

/** Whether a credential with `granted` scopes (null: a session, full access) may use a field needing `needed`. */
export function grants(granted: ReadonlySet<Scope> | null, needed: Scope): boolean {
  return granted === null || granted.has(needed)
}
