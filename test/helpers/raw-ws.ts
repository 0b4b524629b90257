/**
 * graphql-ws spoken by hand over `ws`, for tests that send what a well-behaved
 * client never would, and read every message and the close code. (Everything
 * else uses the real client: clients.ts.) Two shapes: `openRawSocket` keeps
 * every message for the test to search; `RawGraphQLWs` consumes them, one
 * operation at a time.
 */
import WebSocket from 'ws'
import type { Operation, OperationResult, WireError } from './transports.ts'

export interface RawSocket {
  socket: WebSocket
  messages: Record<string, any>[]
  /** Resolves with the close code once the server closes. */
  closed: Promise<number>
  send(frame: unknown): void
  /** Waits for the first message matching `test`, or the close (then undefined). */
  next(test: (message: Record<string, any>) => boolean): Promise<Record<string, any> | undefined>
}

/** Opens a socket on the graphql-transport-ws protocol; with `token`, sends connection_init and waits for the ack. */
export async function openRawSocket(httpUrl: string, token?: string): Promise<RawSocket> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws')
  const messages: Record<string, any>[] = []
  const waiters = new Set<() => void>()
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, any>)
    for (const wake of waiters) wake()
  })
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
  let isClosed = false
  void closed.then(() => {
    isClosed = true
    for (const wake of waiters) wake()
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  socket.on('error', () => {}) // an error once open ends in the close, which `closed` reports
  const raw: RawSocket = {
    socket,
    messages,
    closed,
    send: (frame) => socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    next: (test) =>
      new Promise((resolve) => {
        const check = () => {
          const found = messages.find(test)
          if (found || isClosed) {
            waiters.delete(check)
            resolve(found)
          }
        }
        waiters.add(check)
        check()
      }),
  }
  if (token !== undefined) {
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })
    await raw.next((message) => message.type === 'connection_ack')
  }
  return raw
}

/**
 * Makes `socket` stop reading (its TCP socket paused): the server's writes to it then pile up and wait,
 * as they do for a client that stopped reading.
 */
export function stopReading(socket: WebSocket): void {
  ;(socket as unknown as { _socket: { pause(): void } })._socket.pause()
}

/**
 * A raw graphql-ws connection that consumes its messages: init, then operations one at a time, answered in
 * transports.ts's shape (the limits tests run one operation over every transport with it).
 */
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
    return { data: results.find((result) => result.data !== undefined)?.data, errors: results.flatMap((result) => result.errors ?? []) }
  }

  close(): void {
    this.socket.close()
  }
}
