/**
 * GraphiQL, served by Yoga at the GraphQL endpoint in development only: bundled into the page
 * (the default one loads from a CDN that locked-down machines cannot reach), opened on a
 * suggestions subscription, with the demo token in its headers for the machine itself.
 */
import type { IncomingMessage } from 'node:http'
import type { YogaServerOptions } from 'graphql-yoga'
import type { GraphQLContext } from '../graphql/context.ts'
import { isLoopbackClient } from './loopback.ts'

/** The document GraphiQL opens with: the suggestions stream, every event kind spelled out. */
export const GRAPHIQL_DEFAULT_QUERY = `# Whom to reach out to, and when: press the run button.
# Batches stream as each suggestion becomes final; GraphiQL shows the latest event,
# so SuggestionsComplete repeats the whole list. The stream stays open and sends
# SuggestionsUpdated when your contacts change (try logInteraction in another tab).
subscription Suggestions {
  suggestions(input: { maxSuggestions: 20 }) {
    __typename
    ... on SuggestionBatch { scanned cursor suggestions { ...Suggested } }
    ... on SuggestionsThrottled { reason }
    ... on SuggestionsComplete { total scanned durationMs suggestions { ...Suggested } }
    ... on SuggestionsUpdated { suggestions { ...Suggested } }
  }
}

fragment Suggested on Suggestion {
  id priority reason slot { start end } contact { id name dunbarCircle }
}
`

type YogaOptions = YogaServerOptions<Record<string, never>, GraphQLContext>

/**
 * Yoga's `renderGraphiQL` and `graphiql` options: GraphiQL in development (`enabled`), none otherwise
 * (then its bundle is never loaded).
 * `demoToken` goes into its headers only for a loopback client asking by a loopback name
 * (`yoga.fetch` has no socket: nobody gets it there).
 */
export function graphiqlOptions({ enabled, demoToken }: { enabled: boolean; demoToken?: string | undefined }): Pick<YogaOptions, 'renderGraphiQL' | 'graphiql'> {
  if (!enabled) return { graphiql: false }
  return {
    // Loaded on the first page asked for: the bundled GraphiQL is about 70 MB of RSS (30 MB of heap) once imported.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    graphiql: (_request, serverContext) => {
      const req = (serverContext as unknown as { req?: IncomingMessage } | undefined)?.req
      return {
        title: 'Suggestions server',
        defaultQuery: GRAPHIQL_DEFAULT_QUERY,
        ...(demoToken && req !== undefined && isLoopbackClient(req) ? { headers: JSON.stringify({ Authorization: `Bearer ${demoToken}` }, null, 2) } : {}),
      }
    },
  }
}
