/**
 * The app's GraphQL client: queries and mutations through urql over HTTP (document
 * cache, then `fetch`), subscriptions over graphql-ws. Reconnection is left to the
 * caller (the suggestions stream resumes with its own cursor, which urql does not
 * do); this client only tells why a stream ended. A rejected token is never retried.
 */
import { cacheExchange, Client as UrqlClient, fetchExchange, stringifyDocument } from '@urql/core'
import type { TadaDocumentNode } from 'gql.tada'
import { createClient, type Client } from 'graphql-ws'
import { ApiError, toApiError, type WireError } from './errors.ts'

export interface StreamSink<Data> {
  next(data: Data): void
  /** The stream ended with an error; nothing more will come. */
  error(error: ApiError): void
  /** The server ended the stream. */
  complete(): void
  /** The socket is open and the subscription is on its way (called once, before any `next`). */
  open?(): void
}

export interface ApiClient {
  /** Queries and mutations (`useQuery` / `useMutation` under `ApiProvider`); errors read with `apiErrorOf`. */
  readonly urql: UrqlClient
  /** What this client's streams can be shared under across the tabs of one browser: the same endpoint and token (a hash, not the token). */
  readonly streamScope: string
  /** Starts a subscription; the returned function stops it. */
  subscribe<Data, Variables>(document: TadaDocumentNode<Data, Variables>, variables: Variables, sink: StreamSink<Data>): () => void
  /**
   * A plain request to the server with the token as a bearer header, for what is not GraphQL
   * (file uploads to `/import/*`, downloads from `/export/*`): `path` is resolved against the
   * GraphQL endpoint's origin. Resolves with any status; rejects only when there is no answer.
   */
  http(path: string, init?: RequestInit): Promise<Response>
  dispose(): void
}

/** {@link ApiClient.http} for `token`: `fetch` on `path` resolved against `httpUrl`, with `Authorization: Bearer`. */
export function authorizedFetch(token: string, httpUrl: string, fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args)): ApiClient['http'] {
  return (path, init = {}) => {
    const headers = new Headers(init.headers)
    headers.set('authorization', `Bearer ${token}`)
    return fetchImpl(new URL(path, httpUrl).href, { ...init, headers })
  }
}

const OPEN = 1

/** The graphql-ws close code for a rejected token (the server's onConnect said no). */
export const CLOSE_FORBIDDEN = 4403

/** What graphql-ws hands `error`: a close event, an array of GraphQL errors, or an Error. */
export function streamError(reason: unknown): ApiError {
  if (Array.isArray(reason)) return toApiError(reason as WireError[])
  if (typeof reason === 'object' && reason !== null && 'code' in reason && typeof reason.code === 'number') {
    if (reason.code === CLOSE_FORBIDDEN) return new ApiError('The token was rejected.', 'FORBIDDEN_TOKEN')
    return new ApiError(`The connection closed (${reason.code}).`, 'CLOSED')
  }
  return new ApiError(reason instanceof Error ? reason.message : 'The connection failed.', 'NETWORK')
}

export interface QueryClientOptions {
  token: string
  /** The GraphQL endpoint over HTTP. */
  httpUrl: string
  fetch?: typeof fetch
}

/**
 * urql's client for queries and mutations: results cached per document and variables, shown
 * at once and refreshed from the network (`cache-and-network`; a mutation drops the cached results that hold a type it returns, and active queries
 * among them ask again), sent as JSON POSTs with the token as a bearer header.
 */
export function createQueryClient({ token, httpUrl, fetch: fetchImpl }: QueryClientOptions): UrqlClient {
  return new UrqlClient({
    url: httpUrl,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    // POST as before: GET would put the variables in the URL (and in access logs).
    preferGetMethod: false,
    // A page shows what it had at once and asks again behind it, as the loaders before urql did:
    // contacts change from other tabs and from jobs, which the document cache never hears of.
    requestPolicy: 'cache-and-network',
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  })
}

export interface ApiClientOptions extends QueryClientOptions {
  /** The WebSocket URL is derived from `httpUrl`. */
  webSocketImpl?: unknown
  /** Ping the server this often (ms); a pong later than `pongTimeoutMs` closes the socket. */
  pingIntervalMs?: number
  pongTimeoutMs?: number
}

/** A short, stable hash (FNV-1a, 32 bits) of `text`, as hex: names a scope without spelling the secret in it. */
export function scopeHash(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, '0')
}

export function createApiClient({ token, httpUrl, fetch: fetchImpl, webSocketImpl, pingIntervalMs = 15_000, pongTimeoutMs = 5_000 }: ApiClientOptions): ApiClient {
  const authorization = `Bearer ${token}`
  let socket: WebSocket | null = null
  let pongTimer: ReturnType<typeof setTimeout> | undefined
  const connectedListeners = new Set<() => void>()
  const ws: Client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    connectionParams: { authorization },
    // One attempt per subscribe: the suggestions stream reconnects itself, with its cursor.
    retryAttempts: 0,
    shouldRetry: () => false,
    // A connection that died without a close (sleep, network change) is found by a ping
    // left unanswered, and closed so the stream reconnects.
    keepAlive: pingIntervalMs,
    on: {
      ping: (received) => {
        if (received) return
        pongTimer = setTimeout(() => {
          if (socket?.readyState === OPEN) socket.close(4408, 'Ping timeout')
        }, pongTimeoutMs)
      },
      pong: (received) => void (received && clearTimeout(pongTimer)),
      connected: (connected) => {
        socket = connected as WebSocket
        for (const listener of [...connectedListeners]) listener()
      },
      closed: () => {
        clearTimeout(pongTimer)
        socket = null
      },
    },
    ...(webSocketImpl ? { webSocketImpl } : {}),
  })

  return {
    urql: createQueryClient({ token, httpUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) }),
    streamScope: scopeHash(`${httpUrl} ${token}`),
    subscribe(document, variables, sink) {
      let ended = false
      const opened = () => {
        connectedListeners.delete(opened)
        if (!ended) sink.open?.()
      }
      const end = () => {
        connectedListeners.delete(opened)
        const was = ended
        ended = true
        return was
      }
      // Open already (another subscription's socket): say so once this one is sent; else when it opens.
      if (socket?.readyState === OPEN) queueMicrotask(opened)
      else connectedListeners.add(opened)
      const stop = ws.subscribe<unknown>(
        { query: stringifyDocument(document), variables: variables as Record<string, unknown> },
        {
          next: (result) => {
            if (ended) return
            if (connectedListeners.has(opened)) opened()
            if (result.errors?.length && !result.data) {
              stop()
              if (!end()) sink.error(toApiError(result.errors))
              return
            }
            sink.next(result.data as never)
          },
          error: (reason) => void (!end() && sink.error(streamError(reason))),
          complete: () => void (!end() && sink.complete()),
        },
      )
      return () => {
        end()
        stop()
      }
    },
    http: authorizedFetch(token, httpUrl, fetchImpl),
    dispose: () => void ws.dispose(),
  }
}
