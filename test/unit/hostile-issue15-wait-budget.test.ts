/**
 * Hostile review of the outbound fetch's wait budget (src/net/outbound-fetch.ts WaitBudget, issue 15): the
 * timeout counts only the time spent waiting on the server. Servers that stall the headers, drip them, make
 * each redirect hop wait a little, or stall the body while the caller waits: each must run out of the one
 * budget; a caller that cancels a body it does not want must free the connection.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createOutboundFetch } from '../../src/net/outbound-fetch.ts'

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('the outbound fetch wait budget against slow servers', () => {
  it('headers that never come -> TimeoutError', async () => {
    const url = await serve(() => {})
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 200 })
    await expect(guarded(`${url}/`)).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('headers dripped one line every 60 ms, each wait short -> their sum runs out the budget', async () => {
    const url = await serve((request) => {
      const socket = request.socket
      socket.write('HTTP/1.1 200 OK\r\n')
      const timer = setInterval(() => socket.write('x-drip: 1\r\n'), 60)
      socket.once('close', () => clearInterval(timer))
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 300 })
    await expect(guarded(`${url}/`)).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('five redirects that each wait 120 ms before answering, budget 400 ms -> TimeoutError (the hops share one budget)', async () => {
    const url = await serve((request, response) => {
      const hop = Number(new URL(request.url!, 'http://x').searchParams.get('hop') ?? '0')
      setTimeout(() => {
        if (hop < 5) {
          response.writeHead(307, { location: `/?hop=${hop + 1}` })
          response.end('moved')
        } else response.end('arrived')
      }, 120)
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 400 })
    await expect(guarded(`${url}/`).then((answer) => answer.text())).rejects.toMatchObject({ name: 'TimeoutError' })
    // The same hops within a budget that covers them arrive.
    const roomy = createOutboundFetch({ allowPrivate: true, timeoutMs: 5_000 })
    expect(await (await roomy(`${url}/`)).text()).toBe('arrived')
  })

  it('a body stalled after its first bytes while the caller waits on read -> the read fails with TimeoutError and the server sees the connection go', async () => {
    let closed = () => {}
    const gone = new Promise<void>((resolve) => (closed = resolve))
    const url = await serve((_, response) => {
      response.writeHead(200)
      response.write('first')
      response.once('close', () => closed())
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 200 })
    const reader = (await guarded(`${url}/`)).body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first')
    await expect(reader.read()).rejects.toMatchObject({ name: 'TimeoutError' })
    await vi.waitFor(() => gone, { timeout: 5_000 })
  })

  it('a caller that cancels a body it does not read -> the server sees the connection go at once', async () => {
    let closed = () => {}
    const gone = new Promise<void>((resolve) => (closed = resolve))
    const url = await serve((_, response) => {
      response.writeHead(200)
      response.write('never read')
      response.once('close', () => closed())
    })
    const guarded = createOutboundFetch({ allowPrivate: true, timeoutMs: 60_000 })
    const response = await guarded(`${url}/`)
    await response.body!.cancel()
    await vi.waitFor(() => gone, { timeout: 5_000 })
  })
})
