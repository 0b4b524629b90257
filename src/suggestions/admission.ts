/**
 * Admission control for suggestion walks in this process: at most
 * `concurrency` run at once; the rest wait in a queue that is fair across
 * users (round robin: one user's ten streams do not starve another's one).
 * Past `queueLimit` waiting walks, a new stream is refused with RATE_LIMITED
 * and a retry hint instead of slowing everyone down.
 */
import { ClientError } from '../errors.ts'
import { SECOND_MS } from '../time.ts'

/** Called with the release function when the waiter gets its place. */
type Waiter = (release: () => void) => void

export class AdmissionControl {
  private running = 0
  private waitingCount = 0
  /**
   * Walks already under way waiting for their next step: served before any walk starts, so walks
   * finish what they began (each holds its pages and state between steps) instead of all being
   * under way at once, which outgrew a small heap when walks yield to the event loop.
   */
  private readonly resuming: Waiter[] = []
  /** Waiting walks per user; the Map's order is the round-robin turn. */
  private readonly queues = new Map<string, Waiter[]>()
  /** Moving average of how long a walk holds its place, for the retry hint. */
  private averageWalkMs = 200

  constructor(private readonly options: { concurrency: number; queueLimit: number }) {}

  /** Throws RATE_LIMITED when a new stream would have to queue past the bound. */
  assertCanAdmit(): void {
    if (this.running < this.options.concurrency || this.waitingCount < this.options.queueLimit) return
    const retryAfterSeconds = Math.max(1, Math.ceil(((this.waitingCount / this.options.concurrency) * this.averageWalkMs) / SECOND_MS))
    throw new ClientError('RATE_LIMITED', 'the server is at capacity: retry later', { retryAfterSeconds })
  }

  /**
   * Waits for a place (fairly across users for a new walk; before every new walk for a walk
   * `resuming`), and returns the function that gives it back. Rejects when `signal` aborts.
   */
  acquire(userId: string, signal?: AbortSignal, { resuming = false }: { resuming?: boolean } = {}): Promise<() => void> {
    signal?.throwIfAborted()
    if (this.running < this.options.concurrency && (resuming || this.resuming.length === 0)) {
      this.running++
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = (release) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(release)
      }
      const onAbort = () => {
        if (this.remove(userId, waiter)) reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waitingCount++
      if (resuming) {
        this.resuming.push(waiter)
        return
      }
      const queue = this.queues.get(userId)
      if (queue) queue.push(waiter)
      else this.queues.set(userId, [waiter])
    })
  }

  /** Walks running and waiting now (for metrics and tests). */
  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount }
  }

  private releaser(): () => void {
    const started = performance.now()
    let released = false
    return () => {
      if (released) return
      released = true
      this.averageWalkMs = 0.9 * this.averageWalkMs + 0.1 * (performance.now() - started)
      this.running--
      this.next()
    }
  }

  /** Gives a free place to the first waiter of the next user in turn. */
  private next(): void {
    if (this.running >= this.options.concurrency) return
    const resumed = this.resuming.shift()
    if (resumed) {
      this.waitingCount--
      this.running++
      resumed(this.releaser())
      return
    }
    const turn = this.queues.entries().next()
    if (turn.done) return
    const [userId, queue] = turn.value
    const waiter = queue.shift()!
    // The user goes to the back of the line (or leaves it).
    this.queues.delete(userId)
    if (queue.length > 0) this.queues.set(userId, queue)
    this.waitingCount--
    this.running++
    waiter(this.releaser())
  }

  private remove(userId: string, waiter: Waiter): boolean {
    const resumed = this.resuming.indexOf(waiter)
    if (resumed >= 0) {
      this.resuming.splice(resumed, 1)
      this.waitingCount--
      return true
    }
    const queue = this.queues.get(userId)
    const index = queue?.indexOf(waiter) ?? -1
    if (!queue || index < 0) return false
    queue.splice(index, 1)
    if (queue.length === 0) this.queues.delete(userId)
    this.waitingCount--
    return true
  }
}
