/**
 * graphql-ws spoken by hand over `ws`, for tests that send what a well-behaved
 * client never would, and read every message and the close code.
 */
import WebSocket from 'ws'

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
