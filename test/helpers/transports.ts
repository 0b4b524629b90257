/**
 * One GraphQL operation over each transport the server speaks (HTTP GET, HTTP
 * POST, SSE, graphql-ws), answered in one shape, so that a rule can be tested
 * the same way on all of them. SSE goes through the graphql-sse client; the
 * graphql-ws client is raw (`ws`), to see close codes and to check the socket
 * stays open after a refused operation.
 */
import { NetworkError } from 'graphql-sse'
import WebSocket from 'ws'
import { results, sseClient } from './clients.ts'

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

/** A raw graphql-ws connection: init, then operations one at a time. */
export class RawGraphQLWs {
  readonly socket: WebSocket
  readonly closed: Promise<{ code: number; reason: string }>
  private readonly inbox: Record<string, unknown>[] = []
  private wake: (() => void) | undefined

  constructor(url: string) {
    this.socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws')
    this.socket.on('message', (data) => {
      try {
        this.inbox.push(JSON.parse(String(data)) as Record<string, unknown>)
      } catch {
        this.inbox.push({ type: 'unparsable' })
      }
      this.wake?.()
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.on('close', (code, reason) => (resolve({ code, reason: String(reason) }), this.wake?.())))
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  async opened(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) return
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('close', (code) => reject(new Error(`closed with ${code} before opening`)))
    })
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame))
  }

  /** The next message matching `match`, or undefined once the socket is closed. */
  async next(match: (message: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      const index = this.inbox.findIndex(match)
      if (index >= 0) return this.inbox.splice(index, 1)[0]
      if (this.socket.readyState >= WebSocket.CLOSING) return undefined
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  async init(token?: string): Promise<boolean> {
    await this.opened()
    this.send({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })
    return (await this.next((message) => message.type === 'connection_ack')) !== undefined
  }

  /** Runs one operation: its `next` payloads and `error` errors, until `complete` or `error` (or the socket closes). */
  async operation(id: string, operation: Operation): Promise<OperationResult> {
    this.send({ type: 'subscribe', id, payload: { query: operation.query, variables: operation.variables } })
    const results: { data?: unknown; errors?: WireError[] }[] = []
    for (;;) {
      const message = await this.next((m) => m.id === id)
      if (!message) break
      if (message.type === 'next') results.push(message.payload as { data?: unknown; errors?: WireError[] })
      if (message.type === 'error') results.push({ errors: message.payload as WireError[] })
      if (message.type === 'complete' || message.type === 'error') break
    }
    return collect(results)
  }

  close(): void {
    this.socket.close()
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
