/**
 * One GraphQL operation over each transport the server speaks (HTTP GET, HTTP
 * POST, SSE, graphql-ws), answered in one shape, so that a rule can be tested
 * the same way on all of them. SSE goes through the graphql-sse client; the
 * graphql-ws client is raw (`ws`), to see close codes and to check the socket
 * stays open after a refused operation.
 */
import { NetworkError } from 'graphql-sse'
import { results, sseClient } from './clients.ts'
import { RawGraphQLWs } from './raw-ws.ts'

export type Transport = 'GET' | 'POST' | 'SSE' | 'WS'
export const TRANSPORTS: Transport[] = ['GET', 'POST', 'SSE', 'WS']

export interface WireError {
  message: string
  extensions?: Record<string, unknown>
}

export interface OperationResult {
  /** HTTP status (HTTP and SSE). */
  status?: number
  data?: unknown
  errors: WireError[]
  /** graphql-ws: the close code when the server closed the socket, and whether it still answered afterwards. */
  closeCode?: number
  socketStillAnswers?: boolean
}

export interface Operation {
  query: string
  variables?: Record<string, unknown>
  token?: string
}

function collect(results: { data?: unknown; errors?: WireError[] }[], status?: number): OperationResult {
  return {
    status,
    data: results.find((result) => result.data !== undefined)?.data,
    errors: results.flatMap((result) => result.errors ?? []),
  }
}

async function overHttp(transport: 'GET' | 'POST', url: string, operation: Operation, signal?: AbortSignal): Promise<OperationResult> {
  const headers: Record<string, string> = {
    accept: 'application/graphql-response+json',
    ...(operation.token ? { authorization: `Bearer ${operation.token}` } : {}),
  }
  let response: Response
  if (transport === 'GET') {
    const search = new URLSearchParams({ query: operation.query, ...(operation.variables ? { variables: JSON.stringify(operation.variables) } : {}) })
    response = await fetch(`${url}?${search}`, { headers, signal })
  } else {
    response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query: operation.query, variables: operation.variables }), signal })
  }
  return fromBody(response)
}

/** The errors (and data) of a JSON response, or its text as the one error's message. */
async function fromBody(response: Response): Promise<OperationResult> {
  const text = await response.text()
  try {
    return collect([JSON.parse(text) as { data?: unknown; errors?: WireError[] }], response.status)
  } catch {
    return { status: response.status, errors: [{ message: text }] }
  }
}

/** Over SSE with the graphql-sse client: every result until the operation completes; a response it refuses is read as HTTP. */
async function overSse(url: string, operation: Operation): Promise<OperationResult> {
  let status: number | undefined
  const client = sseClient(url, operation.token, { onStatus: (s) => (status = s) })
  try {
    return collect(await results(client, { query: operation.query, variables: operation.variables }), status)
  } catch (error) {
    if (error instanceof NetworkError && error.response) return fromBody(error.response as Response)
    throw error
  } finally {
    client.dispose()
  }
}

async function overWebSocket(url: string, operation: Operation): Promise<OperationResult> {
  const client = new RawGraphQLWs(url)
  try {
    if (!(await client.init(operation.token))) return { errors: [], closeCode: (await client.closed).code }
    const result = await client.operation('1', operation)
    if (!client.open) return { ...result, closeCode: (await client.closed).code, socketStillAnswers: false }
    const probe = await client.operation('2', { query: '{ __typename }' })
    return { ...result, socketStillAnswers: (probe.data as { __typename?: string } | undefined)?.__typename === 'Query' }
  } finally {
    client.close()
  }
}

/** Runs `operation` over `transport` against the GraphQL endpoint `url` (`signal` aborts GET and POST). */
export function runOperation(transport: Transport, url: string, operation: Operation, signal?: AbortSignal): Promise<OperationResult> {
  if (transport === 'WS') return overWebSocket(url, operation)
  return transport === 'SSE' ? overSse(url, operation) : overHttp(transport, url, operation, signal)
}
