/**
 * The scopes a personal API key can be given, as the form offers them (the server's list:
 * src/auth/scopes.ts; a test keeps the two the same).
 */
export const SCOPE_CHOICES = [
  { scope: 'contacts:read', label: 'Read contacts', detail: 'Contacts, their history, groups, tags and sync conflicts' },
  { scope: 'contacts:write', label: 'Change contacts', detail: 'Create, update and archive contacts; log catch-ups; groups and tags' },
  { scope: 'suggestions:read', label: 'Read planned suggestions', detail: 'The suggestions you accepted, dismissed or snoozed, with their contacts' },
  { scope: 'suggestions:subscribe', label: 'Stream suggestions', detail: 'The ranked suggestions, live, with their contacts' },
  { scope: 'suggestions:write', label: 'Act on suggestions', detail: 'Accept, dismiss, snooze, restore and undo' },
  { scope: 'calendar:read', label: 'Read calendar feed state', detail: 'Whether the calendar feed is on' },
  { scope: 'calendar:write', label: 'Change calendar', detail: 'Availability and busy times' },
  { scope: 'imports:write', label: 'Import files', detail: 'Import contacts and calendars, and follow the imports' },
  { scope: 'webhooks:manage', label: 'Manage webhooks', detail: 'Webhook endpoints that receive contact and suggestion changes, and their delivery logs' },
  { scope: 'schema:introspect', label: 'Introspect the schema', detail: 'For API tools (codegen, GraphiQL): the schema, none of your data' },
] as const

export type ScopeName = (typeof SCOPE_CHOICES)[number]['scope']

/** Days a key lives unless the form says otherwise (the server's default), and the most it may. */
export const DEFAULT_KEY_DAYS = 90
export const MAX_KEY_DAYS = 365

/** Pure: a key's state at `now`: revoked, expired or active. */
export function keyState(key: { revokedAt: string | null; expiresAt: string }, now: number): 'revoked' | 'expired' | 'active' {
  if (key.revokedAt) return 'revoked'
  return new Date(key.expiresAt).getTime() <= now ? 'expired' : 'active'
}
