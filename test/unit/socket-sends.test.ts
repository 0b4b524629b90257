import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { guardClientFrames } from '../../src/graphql/limits/websocket.ts'

/** A socket as `ws` gives it: send(data, callback), bufferedAmount, terminate. */
function fakeSocket(bufferedAmount: number, sendError?: Error & { code?: string }) {
  const socket = Object.assign(new EventEmitter(), {
    bufferedAmount,
    terminate: vi.fn(),
    close: vi.fn(),
    sent: [] as unknown[],
    send(data: unknown, callback?: (error?: Error) => void) {
      this.sent.push(data)
      callback?.(sendError)
    },
  })
  const server = new EventEmitter()
  const log = vi.fn()
  guardClientFrames(server as never, log, 1000)
  server.emit('connection', socket)
  return { socket, log }
}

describe('graphql-ws sends', () => {
  it('cut a socket whose client let more than the bound queue up, and drop what it would have got', () => {
    const { socket, log } = fakeSocket(1001)
    const callback = vi.fn()
    socket.send('{"type":"next"}', callback)
    expect(socket.terminate).toHaveBeenCalledOnce()
    expect(socket.sent).toEqual([])
    expect(callback).toHaveBeenCalledWith()
    expect(log).toHaveBeenCalledOnce()
  })

  it('send as usual below the bound', () => {
    const { socket } = fakeSocket(999)
    const callback = vi.fn()
    socket.send('{"type":"next"}', callback)
    expect(socket.sent).toEqual(['{"type":"next"}'])
    expect(socket.terminate).not.toHaveBeenCalled()
    expect(callback).toHaveBeenCalledWith(undefined)
  })

  it('complete quietly when the client left mid-write (EPIPE, ECONNRESET), and pass other errors on', () => {
    for (const code of ['EPIPE', 'ECONNRESET']) {
      const { socket, log } = fakeSocket(0, Object.assign(new Error(code), { code }))
      const callback = vi.fn()
      socket.send('x', callback)
      expect(callback).toHaveBeenCalledWith()
      expect(log).toHaveBeenCalledOnce()
    }
    const other = Object.assign(new Error('boom'), { code: 'EOTHER' })
    const { socket } = fakeSocket(0, other)
    const callback = vi.fn()
    socket.send('x', callback)
    expect(callback).toHaveBeenCalledWith(other)
  })
})
