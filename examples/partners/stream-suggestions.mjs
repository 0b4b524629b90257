/**
 * Streams a user's ranked suggestions over graphql-ws with a personal API key (docs/partners.md).
 *
 *   GRAPHQL_URL=http://localhost:4000/graphql API_KEY=prm_key_... MAX_EVENTS=3 node examples/partners/stream-suggestions.mjs
 *
 * Environment:
 *   API_KEY          a personal API key with the scope suggestions:subscribe (required)
 *   GRAPHQL_URL      the server's GraphQL endpoint, http(s):// (default http://localhost:4000/graphql; ws(s):// is derived)
 *   MAX_SUGGESTIONS  how many suggestions to rank, 1..500 (default 10)
 *   MAX_EVENTS       exit after this many events (default: run until Ctrl-C / SIGTERM; the stream stays live)
 *
 * Prints each event: every SuggestionBatch as ranked lines ("  3. Ada Lovelace  priority 7.12  Monthly · ..."),
 * SuggestionsComplete once the ranking is final, SuggestionsUpdated (the new full list) after the user's data
 * changes. Exit code 0 after MAX_EVENTS or a signal, 1 on an error (the server's code and message on stderr).
 * Plain Node (20+): the `graphql-ws` client and the `ws` WebSocket implementation are its only packages.
 */
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

const apiKey = process.env.API_KEY
if (!apiKey) {
  console.error('Set API_KEY to a personal API key with the scope suggestions:subscribe (npm run -s apikey, or the web client\'s API keys page).')
  process.exit(1)
}
const httpUrl = process.env.GRAPHQL_URL ?? 'http://localhost:4000/graphql'
const maxSuggestions = Number(process.env.MAX_SUGGESTIONS ?? 10)
const maxEvents = process.env.MAX_EVENTS ? Number(process.env.MAX_EVENTS) : Infinity

const SUGGESTION = 'id priority reason slot { start end } contact { id name }'
const SUBSCRIPTION = `subscription Suggestions($maxSuggestions: Int!) {
  suggestions(input: { maxSuggestions: $maxSuggestions }) {
    __typename
    ... on SuggestionBatch { suggestions { ${SUGGESTION} } }
    ... on SuggestionsComplete { total durationMs }
    ... on SuggestionsThrottled { reason }
    ... on SuggestionsUpdated { suggestions { ${SUGGESTION} } }
  }
}`

const client = createClient({
  url: httpUrl.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  // The credential goes in the connection's parameters (browsers cannot set headers on a WebSocket).
  connectionParams: { authorization: `Bearer ${apiKey}` },
  // A script: no reconnection loop. A long-running integration would retry, and resume with `resumeFrom`.
  retryAttempts: 0,
})

/** Ends the process once the socket is closed. */
async function stop(code) {
  await client.dispose()
  process.exit(code)
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`stopped (${signal})`)
    void stop(0)
  })
}

const line = (rank, suggestion) => {
  const slot = suggestion.slot ? `  slot ${suggestion.slot.start} - ${suggestion.slot.end}` : ''
  return `  ${String(rank).padStart(2)}. ${suggestion.contact.name}  priority ${suggestion.priority.toFixed(2)}  ${suggestion.reason}${slot}`
}

let events = 0
/** Suggestions printed so far in the current ranking (batches continue it; an update starts a new one). */
let ranked = 0
try {
  for await (const result of client.iterate({ query: SUBSCRIPTION, variables: { maxSuggestions } })) {
    if (result.errors?.length) {
      for (const error of result.errors) console.error(`error ${error.extensions?.code ?? ''}: ${error.message}`)
      await stop(1)
    }
    const event = result.data.suggestions
    switch (event.__typename) {
      case 'SuggestionBatch':
        console.log(`batch: ${event.suggestions.length} suggestion(s)`)
        for (const suggestion of event.suggestions) console.log(line(++ranked, suggestion))
        break
      case 'SuggestionsComplete':
        console.log(`complete: ${event.total} suggestion(s) in ${Math.round(event.durationMs)} ms; waiting for changes`)
        break
      case 'SuggestionsThrottled':
        console.log(`throttled: ${event.reason}`)
        break
      case 'SuggestionsUpdated':
        ranked = 0
        console.log(`updated: ${event.suggestions.length} suggestion(s)`)
        for (const suggestion of event.suggestions) console.log(line(++ranked, suggestion))
        break
    }
    if (++events >= maxEvents) await stop(0)
  }
  // The server ended the stream (a stream with `live: false`, or the server going away).
  await stop(0)
} catch (error) {
  // A refused connection: graphql-ws closes with 4403 for a bad or revoked key; a socket error otherwise.
  const reason = error?.reason || error?.message || (error?.code ? `socket closed ${error.code}` : String(error))
  console.error(`error: ${reason}${error?.code ? ` (close code ${error.code})` : ''}`)
  await stop(1)
}
