/**
 * Reads a user's contacts and planned suggestions with a connected app's OAuth access token, in plain
 * `fetch` (docs/partners.md). When the access token is refused (expired after 10 minutes, or revoked),
 * it refreshes once with the refresh token and the app's client credentials, then retries.
 *
 *   GRAPHQL_URL=http://localhost:4000/graphql CLIENT_ID=app_... CLIENT_SECRET=... \
 *     ACCESS_TOKEN=... REFRESH_TOKEN=... TOKENS_FILE=tokens.json node examples/partners/contacts-with-oauth.mjs
 *
 * Environment:
 *   GRAPHQL_URL      the server's GraphQL endpoint (default http://localhost:4000/graphql)
 *   TOKEN_URL        the token endpoint (default: GRAPHQL_URL's origin + /oauth/token)
 *   CLIENT_ID, CLIENT_SECRET   the app's credentials (npm run -s oauth-client, or registerOAuthApp)
 *   ACCESS_TOKEN, REFRESH_TOKEN the user's tokens from the code exchange
 *   TOKENS_FILE      a JSON file for the tokens: read first when it exists (it wins over the two variables),
 *                    written (mode 0600) after each refresh. Refresh tokens rotate: the old one is spent, and
 *                    presenting it again revokes the whole connection, so a real app must store the new one.
 *   CONTACTS         contacts to list, 1..1000 (default 10)
 *
 * Prints the contacts due first (name, next due date), the planned suggestions, the budget left (the
 * RateLimit header) and, when it refreshed, `access token refused: refreshing ...` then `refreshed: ...`.
 * Exit code 1 on any other error. Needs the scopes contacts:read and suggestions:read.
 */
import { readFile, writeFile } from 'node:fs/promises'

const graphqlUrl = process.env.GRAPHQL_URL ?? 'http://localhost:4000/graphql'
const tokenUrl = process.env.TOKEN_URL ?? new URL('/oauth/token', graphqlUrl).href
const { CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, TOKENS_FILE: tokensFile } = process.env
const first = Number(process.env.CONTACTS ?? 10)

/** The tokens in use: from TOKENS_FILE when it exists, else from the environment. */
let tokens = { access_token: process.env.ACCESS_TOKEN, refresh_token: process.env.REFRESH_TOKEN }
if (tokensFile) {
  try {
    tokens = JSON.parse(await readFile(tokensFile, 'utf8'))
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
  }
}
if (!tokens.access_token || !tokens.refresh_token || !clientId || !clientSecret) {
  console.error('Set CLIENT_ID, CLIENT_SECRET, ACCESS_TOKEN and REFRESH_TOKEN (or TOKENS_FILE): see docs/partners.md.')
  process.exit(1)
}

const QUERY = `query Overview($first: Int!) {
  me { email }
  contacts(first: $first, orderBy: { field: NEXT_DUE_AT }) { totalCount edges { node { name nextDueAt } } }
  suggestionsByStatus(statuses: [ACCEPTED], first: 5) { totalCount edges { node { contact { name } slot { start } } } }
}`

/** Whether an answer says the access token is not (or no longer) valid. */
const refused = (response, body) =>
  response.status === 401 || (body.errors ?? []).some((error) => error.extensions?.code === 'UNAUTHENTICATED')

/** POST /oauth/token with `grant_type=refresh_token`, the app authenticated with HTTP Basic (RFC 6749 section 2.3.1). */
async function refresh() {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
  })
  const body = await response.json()
  if (!response.ok) throw new Error(`refresh refused (${response.status} ${body.error}: ${body.error_description ?? ''}); the user must connect the app again`)
  tokens = { access_token: body.access_token, refresh_token: body.refresh_token }
  if (tokensFile) await writeFile(tokensFile, JSON.stringify(tokens), { mode: 0o600 })
  console.log(`refreshed: new access token valid ${body.expires_in} s; refresh token rotated${tokensFile ? ` (saved to ${tokensFile})` : ''}`)
}

/** One GraphQL request over HTTP POST; a refused token is refreshed once and the request sent again. */
async function graphql(query, variables, { retried = false } = {}) {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens.access_token}`,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
    },
    body: JSON.stringify({ query, variables }),
  })
  const body = await response.json()
  if (refused(response, body) && !retried) {
    console.log(`access token refused: refreshing at ${tokenUrl}`)
    await refresh()
    return graphql(query, variables, { retried: true })
  }
  if (response.status === 429) {
    throw new Error(`over budget: retry after ${response.headers.get('retry-after')} s (${response.headers.get('ratelimit')})`)
  }
  return { body, rateLimit: response.headers.get('ratelimit') }
}

try {
  const { body, rateLimit } = await graphql(QUERY, { first })
  // A field outside the app's scopes is null with a FORBIDDEN error naming the scope; the rest still arrives.
  for (const error of body.errors ?? []) console.error(`error ${error.extensions?.code ?? ''} at ${error.path?.join('.') ?? '-'}: ${error.message}`)
  if (!body.data) process.exit(1)
  const { me, contacts, suggestionsByStatus } = body.data
  console.log(`signed in for ${me.email}`)
  if (contacts) {
    console.log(`contacts due first (${contacts.edges.length} of ${contacts.totalCount}):`)
    for (const { node } of contacts.edges) console.log(`  ${node.name}  next due ${node.nextDueAt ?? '-'}`)
  }
  if (suggestionsByStatus) {
    console.log(`planned suggestions: ${suggestionsByStatus.totalCount}`)
    for (const { node } of suggestionsByStatus.edges) console.log(`  ${node.contact.name}  ${node.slot?.start ?? 'no slot'}`)
  }
  console.log(`budget left: ${rateLimit}`)
} catch (error) {
  console.error(`error: ${error.message}`)
  process.exit(1)
}
