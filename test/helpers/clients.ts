/**
 * The real graphql-ws and graphql-sse clients, set up the one way the tests
 * use them: against a test server's GraphQL URL, signed in with a token, and
 * with no retries (a test wants the first failure, not a reconnect). Tests
 * that send what a well-behaved client never would (malformed frames, a
 * socket or stream that stops reading, a stream dropped mid-way) speak the
 * protocol by hand instead: raw-ws.ts and the tests themselves.
 */
import { createClient as createSseClient, type Client as SseClient, type ClientOptions as SseClientOptions, type ExecutionResult } from 'graphql-sse'
import { createClient as createWsClient, type Client as WsClient, type ClientOptions as WsClientOptions } from 'graphql-ws'
import WebSocket from 'ws'

export type { SseClient, WsClient }

/** One GraphQL request. */
export interface Request {
  query: string
  variables?: Record<string, unknown>
}

/** A result as both clients give it: `data` and/or `errors` (with `extensions.code`). */
export interface Result<Data = Record<string, any>> {
  data?: Data | null
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[]
}

/**
 * A graphql-ws client to `httpUrl` (the server's `/graphql`, http:// or https://), signed in with `token`
 * through `connectionParams` (anonymous without), no retries. `options` override any of these.
 */
export function wsClient(httpUrl: string, token?: string, options: Partial<WsClientOptions> = {}): WsClient {
  return createWsClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    ...options,
  })
}

/**
 * A graphql-sse client to `httpUrl` in distinct-connections mode (one SSE response per operation, what
 * graphql-yoga serves), signed in with `token` through the `authorization` header, no retries.
 * `onStatus` is told the HTTP status of each response.
 */
export function sseClient(httpUrl: string, token?: string, options: Partial<SseClientOptions<false>> & { onStatus?: (status: number) => void } = {}): SseClient<false> {
  const { onStatus, ...rest } = options
  return createSseClient({
    url: httpUrl,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    fetchFn: async (input: string | URL | globalThis.Request, init?: RequestInit) => {
      const response = await fetch(input, init)
      onStatus?.(response.status)
      return refusalAsEvents(response)
    },
    ...rest,
  })
}

/**
 * graphql-yoga answers an operation it refuses before running it (a variable that does not coerce, a
 * missing token) with a 4xx status whose SSE body carries the errors as a `next` event; the graphql-sse
 * client throws on any non-2xx status without reading the body. Such a response is given to the client as
 * a 200 with the same events, so a test reads the errors (with their codes) like any other result. Any
 * other response is left as it is: a 5xx, or a 4xx that is not SSE, makes the client throw a NetworkError.
 */
function refusalAsEvents(response: Response): Response {
  const refusal = response.status >= 400 && response.status < 500 && (response.headers.get('content-type') ?? '').includes('text/event-stream')
  return refusal ? new Response(response.body, { status: 200, headers: response.headers }) : response
}

/**
 * The results of one operation on `client` (graphql-ws or graphql-sse), in order, until the server completes
 * it or `until` is true for a result (that result included; the operation is then left, as a client that
 * has what it wanted does, which ends a live stream). Rejects as the client does: graphql-ws with the
 * operation's `error` payload (an array of errors) or the close event, graphql-sse with a NetworkError.
 */
export async function results<Data = Record<string, any>>(
  client: Pick<WsClient | SseClient<false>, 'iterate'>,
  request: Request,
  until: (result: Result<Data>) => boolean = () => false,
): Promise<Result<Data>[]> {
  const received: Result<Data>[] = []
  for await (const result of client.iterate<Data>(request) as AsyncIterable<ExecutionResult<Data, unknown>>) {
    received.push(result as Result<Data>)
    if (until(result as Result<Data>)) break
  }
  return received
}

/** {@link results} over SSE on a client of its own (see {@link sseClient}), disposed of afterwards. */
export async function sseResults<Data = Record<string, any>>(
  httpUrl: string,
  request: Request,
  token?: string,
  until?: (result: Result<Data>) => boolean,
): Promise<Result<Data>[]> {
  const client = sseClient(httpUrl, token)
  try {
    return await results(client, request, until)
  } finally {
    client.dispose()
  }
}

/** {@link results} over graphql-ws on a client of its own (see {@link wsClient}), disposed of afterwards. */
export async function wsResults<Data = Record<string, any>>(
  httpUrl: string,
  request: Request,
  token?: string,
  until?: (result: Result<Data>) => boolean,
): Promise<Result<Data>[]> {
  const client = wsClient(httpUrl, token)
  try {
    return await results(client, request, until)
  } finally {
    await client.dispose()
  }
}
