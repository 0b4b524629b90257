/**
 * CSRF prevention with Yoga's plugin, for requests with a body only. A browser
 * sends a form-encoded, multipart or text/plain POST to any site without a
 * preflight; such a POST (or one with no content type) must carry a custom
 * header (`x-graphql-yoga-csrf`), which no cross-site page can add without CORS
 * allowing it. Otherwise it is refused with 403 and `BAD_REQUEST`, before its
 * body is read. JSON POSTs (the web client, GraphiQL) are preflighted already.
 *
 * GET is left alone: Yoga runs only queries over GET (mutations get 405), the
 * API has no ambient credentials (no cookies), and the GraphQL-over-HTTP spec
 * (its audits) requires a GET without custom headers to work.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention'
import { GraphQLError } from 'graphql'
import { createGraphQLError, type Plugin } from 'graphql-yoga'

/** The Yoga plugin; `BAD_REQUEST` (HTTP 403) for a simple cross-site-capable request without the header. */
export function useCsrfPreventionForBodies(): Plugin {
  const csrf = useCSRFPrevention()
  return {
    onRequestParse(payload) {
      // Yoga executes GET and POST only (other methods get 405); GET is exempt, see above.
      if (payload.request.method !== 'POST') return
      try {
        return csrf.onRequestParse?.(payload)
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error
        throw createGraphQLError('Send JSON (content-type: application/json), or the x-graphql-yoga-csrf header with this content type', {
          extensions: { code: 'BAD_REQUEST', http: { status: 403 } },
        })
      }
    },
  }
}
