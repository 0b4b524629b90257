/**
 * Tabs of one browser in one test: an exclusive lock manager (as `navigator.locks`:
 * requests queue, the holder keeps it while its callback's promise is pending, an
 * aborted request leaves the queue) and BroadcastChannels that deliver to every other
 * channel of the same name, asynchronously and in order, as the browser does.
 */
import type { ChannelLike, LockManagerLike } from '../src/suggestions/shared-stream.ts'

interface Waiter {
  callback: () => Promise<void>
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/** One browser: `locks` and `openChannel` for each of its tabs (they share both). */
export interface FakeBrowser {
  locks: LockManagerLike
  openChannel: (name: string) => ChannelLike
  /** Who holds or waits for each lock, for assertions. */
  lockState(name: string): { held: boolean; waiting: number }
  /** Resolves once every message posted so far has been delivered. */
  flush(): Promise<void>
}

export function createFakeBrowser(): FakeBrowser {
  const held = new Set<string>()
  const queues = new Map<string, Waiter[]>()
  const channels = new Map<string, Set<ChannelLike>>()
  let deliveries: Promise<void> = Promise.resolve()

  const grant = (name: string) => {
    if (held.has(name)) return
    const next = queues.get(name)?.shift()
    if (!next) return
    held.add(name)
    void next
      .callback()
      .then(next.resolve, next.reject)
      .finally(() => {
        held.delete(name)
        grant(name)
      })
  }

  const locks: LockManagerLike = {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const waiter: Waiter = { callback, resolve, reject }
        const queue = queues.get(name) ?? []
        queues.set(name, queue)
        queue.push(waiter)
        options.signal?.addEventListener('abort', () => {
          const index = queue.indexOf(waiter)
          if (index === -1) return
          queue.splice(index, 1)
          reject(new DOMException('aborted', 'AbortError'))
        })
        // Granted asynchronously, as the browser does.
        queueMicrotask(() => grant(name))
      })
    },
  }

  const openChannel = (name: string): ChannelLike => {
    const peers = channels.get(name) ?? new Set<ChannelLike>()
    channels.set(name, peers)
    const channel: ChannelLike = {
      onmessage: null,
      postMessage(message) {
        // Structured clone, as the real channel: no object is shared between tabs.
        const copy = structuredClone(message)
        const targets = [...peers].filter((peer) => peer !== channel)
        deliveries = deliveries.then(async () => {
          await Promise.resolve()
          for (const peer of targets) if (peers.has(peer)) peer.onmessage?.({ data: copy } as MessageEvent)
        })
      },
      close() {
        peers.delete(channel)
      },
    }
    peers.add(channel)
    return channel
  }

  return {
    locks,
    openChannel,
    lockState: (name) => ({ held: held.has(name), waiting: queues.get(name)?.length ?? 0 }),
    flush: async () => {
      for (let i = 0; i < 5; i++) await deliveries
    },
  }
}
