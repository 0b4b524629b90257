/**
 * The app's GraphQL client: queries and mutations over HTTP (a plain `fetch`),
 * subscriptions over graphql-ws. Reconnection is left to the caller (the
 * suggestions stream resumes with its own cursor); this client only tells why a
 * stream ended. A rejected token is never retried.
 */
import { stringifyDocument } from '@urql/core'
import type { TadaDocumentNode } from 'gql.tada'
import { createClient, type Client } from 'graphql-ws'

/** Why a request or a stream failed, in the server's error vocabulary. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** `extensions.code` (UNAUTHENTICATED, NOT_FOUND, ...), or NETWORK / CLOSED for transport failures. */
    readonly code: string,
    /** RATE_LIMITED tells when to come back. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  /** The token is missing, unknown or revoked: sign in again. */
  get unauthorized(): boolean {
    return this.code === 'UNAUTHENTICATED' || this.code === 'FORBIDDEN_TOKEN'
  }
}

export interface StreamSink<Data> {
  next(data: Data): void
  /** The stream ended with an error; nothing more will come. */
  error(error: ApiError): void
  /** The server ended the stream. */
  complete(): void
}

export interface ApiClient {
  request<Data, Variables>(document: TadaDocumentNode<Data, Variables>, variables: Variables): Promise<Data>
  /** Starts a subscription; the returned function stops it. */
  subscribe<Data, Variables>(document: TadaDocumentNode<Data, Variables>, variables: Variables, sink: StreamSink<Data>): () => void
  dispose(): void
}

interface WireError {
  message: string
  extensions?: { code?: unknown; retryAfterSeconds?: unknown }
}

/** The first GraphQL error as an {@link ApiError}. */
export function toApiError(errors: readonly WireError[]): ApiError {
  const first = errors[0]
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'UNKNOWN'
  const retry = first?.extensions?.retryAfterSeconds
  return new ApiError(first?.message ?? 'Unknown error', code, typeof retry === 'number' ? retry : undefined)
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

export interface ApiClientOptions {
  token: string
  /** The GraphQL endpoint over HTTP; the WebSocket URL is derived from it. */
  httpUrl: string
  fetch?: typeof fetch
  webSocketImpl?: unknown
  /** Ping the server this often (ms); a pong later than `pongTimeoutMs` closes the socket. */
  pingIntervalMs?: number
  pongTimeoutMs?: number
}

export function createApiClient({ token, httpUrl, fetch: fetchImpl = fetch, webSocketImpl, pingIntervalMs = 15_000, pongTimeoutMs = 5_000 }: ApiClientOptions): ApiClient {
  const authorization = `Bearer ${token}`
  let socket: WebSocket | null = null
  let pongTimer: ReturnType<typeof setTimeout> | undefined
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
      connected: (connected) => void (socket = connected as WebSocket),
      closed: () => {
        clearTimeout(pongTimer)
        socket = null
      },
    },
    ...(webSocketImpl ? { webSocketImpl } : {}),
  })

  return {
    async request(document, variables) {
      let response: Response
      try {
        response = await fetchImpl(httpUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization },
          body: JSON.stringify({ query: stringifyDocument(document), variables }),
        })
      } catch {
        throw new ApiError('The server cannot be reached.', 'NETWORK')
      }
      const body = (await response.json().catch(() => null)) as { data?: unknown; errors?: WireError[] } | null
      if (body?.errors?.length) throw toApiError(body.errors)
      if (!body?.data) throw new ApiError(`The server answered ${response.status}.`, 'NETWORK')
      return body.data as never
    },
    subscribe(document, variables, sink) {
      let ended = false
      const end = () => {
        const was = ended
        ended = true
        return was
      }
      const stop = ws.subscribe<unknown>(
        { query: stringifyDocument(document), variables: variables as Record<string, unknown> },
        {
          next: (result) => {
            if (ended) return
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
    dispose: () => void ws.dispose(),
  }
}
