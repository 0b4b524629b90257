/**
 * The end-to-end harness: the real server over an in-memory PGlite with the demo
 * data and a demo token, Debian's Chromium through playwright-core, and a bare
 * graphql-ws client in Node for what the API itself says.
 */
import { mkdirSync } from 'node:fs'
import type { Socket } from 'node:net'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { stringifyDocument } from '@urql/core'
import { SuggestionsSubscription } from '../src/api/documents.ts'
import type { ResultOf } from '../src/graphql.ts'
import { issueToken } from '../../src/auth/tokens.ts'
import { seedDemoData } from '../../src/seed/seed.ts'
import { openTestDatabase, type TestDatabase } from '../../test/helpers/databases.ts'
import { startTestServer, type TestServer } from '../../test/helpers/server.ts'

// Debian's Chromium, as the server's own browser tests launch it.
export { CHROMIUM_PATH as CHROMIUM, chromiumAvailable as browserTestsEnabled, launchChromium } from '../../test/helpers/chromium.ts'
export const OUTPUT_DIR = new URL('./output/', import.meta.url).pathname

export function screenshotPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true })
  return `${OUTPUT_DIR}${name}.png`
}

export interface DemoServer {
  db: TestDatabase
  server: TestServer
  /** The demo user's token (also handed to the page as the demo token). */
  token: string
  /** http://127.0.0.1:<port> */
  origin: string
  /** Destroys every open WebSocket connection, as a network failure would. */
  killSockets(): number
  close(): Promise<void>
}

export async function startDemoServer(): Promise<DemoServer> {
  const db = await openTestDatabase('pglite')
  const { userId } = await seedDemoData(db, { now: new Date() })
  const token = await issueToken(db.prisma, userId, 'e2e')
  const server = await startTestServer(db, { demoToken: token })
  const sockets = new Set<Socket>()
  server.app.server.on('upgrade', (_request, socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return {
    db,
    server,
    token,
    origin: new URL(server.url).origin,
    killSockets() {
      const count = sockets.size
      for (const socket of sockets) socket.destroy()
      return count
    },
    async close() {
      await server.close()
      await db.destroy()
    },
  }
}

/** The app's own subscription document: the Node client makes exactly the browser's subscription. */
export const SUBSCRIPTION = stringifyDocument(SuggestionsSubscription)

export interface ApiStream {
  /** Contact ids in rank order. */
  contactIds: string[]
  /** ms from subscribing to the first batch with suggestions, and to SuggestionsComplete. */
  firstMs: number
  completeMs: number
  /** The server's own walk time (SuggestionsComplete.durationMs). */
  serverMs: number
}

/**
 * The suggestions for the user as a bare graphql-ws client in Node gets them: the
 * app's document and input (live), read until SuggestionsComplete.
 */
export async function apiSuggestions(graphqlUrl: string, token: string, input: { maxSuggestions?: number; batchSize?: number } = {}): Promise<ApiStream> {
  const client = createClient({ url: graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 })
  const started = performance.now()
  let firstMs = Number.NaN
  let serverMs = Number.NaN
  const contactIds: string[] = []
  try {
    for await (const result of client.iterate({ query: SUBSCRIPTION, variables: { input: { ...input, live: true } } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors))
      const event = (result.data as ResultOf<typeof SuggestionsSubscription>).suggestions
      if (event.__typename === 'SuggestionBatch') {
        if (event.suggestions.length > 0 && Number.isNaN(firstMs)) firstMs = performance.now() - started
        contactIds.push(...event.suggestions.map((suggestion) => suggestion.contact.id))
      }
      if (event.__typename === 'SuggestionsComplete') {
        serverMs = event.durationMs
        break
      }
    }
  } finally {
    await client.dispose()
  }
  return { contactIds, firstMs, completeMs: performance.now() - started, serverMs }
}
