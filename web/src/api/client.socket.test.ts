// @vitest-environment node
/** The client's subscription path against real sockets: a rejected token and a dropped connection. */
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createApiClient } from './client.ts'
import { ApiError } from './errors.ts'
import { SuggestionsSubscription } from './documents.ts'

let server: WebSocketServer | undefined
afterEach(async () => {
  vi.useRealTimers()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
})

/** A graphql-ws-speaking stub: `onInit` decides what happens after connection_init. */
async function stubServer(onInit: (socket: WebSocket) => void, silent = false): Promise<{ url: string; connections: () => number }> {
  let connections = 0
  server = new WebSocketServer({ port: 0, handleProtocols: () => 'graphql-transport-ws' })
  server.on('connection', (socket) => {
    connections++
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; id?: string }
      if (message.type === 'connection_init') onInit(socket)
      if (message.type === 'subscribe' && !silent) {
        socket.send(JSON.stringify({ id: message.id, type: 'next', payload: { data: { suggestions: { __typename: 'SuggestionsComplete', total: 0, scanned: 0, durationMs: 1 } } } }))
        setTimeout(() => socket.terminate(), 20)
      }
    })
  })
  await new Promise((resolve) => server!.once('listening', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, connections: () => connections }
}

function outcome(url: string, options: { pingIntervalMs?: number; pongTimeoutMs?: number; webSocketImpl?: unknown } = {}) {
  const client = createApiClient({ token: 't', httpUrl: url, webSocketImpl: WebSocket, ...options })
  const events: unknown[] = []
  const done = new Promise<ApiError>((resolve) => {
    client.subscribe(SuggestionsSubscription, { input: {} }, { next: (data) => events.push(data), error: resolve, complete: () => resolve(new ApiError('completed', 'UNKNOWN')) })
  })
  return { client, events, done }
}

describe('createApiClient().subscribe over a socket', () => {
  it('ends with FORBIDDEN_TOKEN at once when the server closes with 4403, and does not reconnect', async () => {
    // Fake timeouts only (sockets and the stub run for real): a reconnect waits on one (graphql-ws's back-off is
    // 1.3 s at the least), and a minute of fake time lets any such wait elapse.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    const stub = await stubServer((socket) => socket.close(4403, 'Forbidden'))
    // Sockets the client opens, counted as it opens them (the stub hears of one only later, over the network).
    let opened = 0
    let firstClosed: Promise<void> | undefined
    class CountedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        opened++
        firstClosed ??= new Promise((resolve) => this.once('close', () => resolve()))
      }
    }
    const { client, done } = outcome(stub.url, { webSocketImpl: CountedWebSocket })
    let error: ApiError | undefined
    void done.then((ended) => (error = ended))
    // At once: told in the turn the close arrives in, with no timer run.
    await firstClosed
    await new Promise((resolve) => setImmediate(resolve))
    expect(error).toMatchObject({ code: 'FORBIDDEN_TOKEN', unauthorized: true })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(opened).toBe(1)
    expect(stub.connections()).toBe(1)
    client.dispose()
  })

  it('delivers events, then ends with CLOSED when the connection drops', async () => {
    const stub = await stubServer((socket) => socket.send(JSON.stringify({ type: 'connection_ack' })))
    const { client, events, done } = outcome(stub.url)
    const error = await done
    expect(events).toEqual([{ suggestions: { __typename: 'SuggestionsComplete', total: 0, scanned: 0, durationMs: 1 } }])
    expect(error).toMatchObject({ code: 'CLOSED', unauthorized: false })
    client.dispose()
  })

  it('closes a connection whose pings go unanswered, so the stream can reconnect', async () => {
    // Acks, then never answers a ping nor sends anything: a connection that died silently.
    const stub = await stubServer((socket) => socket.send(JSON.stringify({ type: 'connection_ack' })), true)
    const started = Date.now()
    const { client, done } = outcome(stub.url, { pingIntervalMs: 100, pongTimeoutMs: 100 })
    const error = await done
    expect(error).toMatchObject({ code: 'CLOSED', message: 'The connection closed (4408).' })
    expect(Date.now() - started).toBeLessThan(2000)
    client.dispose()
  })
})
