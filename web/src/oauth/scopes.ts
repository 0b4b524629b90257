/** What each partner scope lets an app do, in the words the consent page and the connected apps list use. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'contacts:read': 'See your contacts',
  'contacts:write': 'Add and change your contacts',
  'suggestions:read': 'See whom you should reach out to',
  'suggestions:subscribe': 'Follow your suggestions live',
  'suggestions:write': 'Accept, dismiss and snooze your suggestions',
  'calendar:read': 'See your availability and busy times',
  'calendar:write': 'Change your availability and busy times',
  'imports:write': 'Import contacts and calendars into your account',
  'webhooks:manage': 'Send your contact and suggestion changes to its webhook endpoints',
  'schema:introspect': 'Read the API\'s schema (none of your data)',
}

/** The description of `scope`, or the scope itself when it is unknown to this client. */
export function describeScope(scope: string): string {
  return SCOPE_DESCRIPTIONS[scope] ?? scope
}
