/**
 * A webhook receiver on loopback for tests: records every request (headers, body, time) and answers what the
 * test's `answer` function says for the n-th request (default 200).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the receiver got. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders
  body: string
  at: number
}

/** What the receiver answers: a status and optional headers. */
export type ReceiverAnswer = { status: number; headers?: Record<string, string> }

export interface WebhookReceiver {
  url: string
  received: ReceivedWebhook[]
  /** Replaces the answer function (n: 0-based index of the request). */
  answer: (n: number, request: ReceivedWebhook) => ReceiverAnswer
  close(): Promise<void>
}

/** Starts a receiver on 127.0.0.1 at a free port; `path` is appended to its URL. */
export async function startWebhookReceiver(path = '/hook'): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    close: async () => {},
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const record = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      const n = receiver.received.length
      receiver.received.push(record)
      const { status, headers = {} } = receiver.answer(n, record)
      response.writeHead(status, { 'content-type': 'text/plain', ...headers })
      response.end(status >= 300 ? `status ${status}` : 'ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return receiver
}
