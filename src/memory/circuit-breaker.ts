/**
 * Decides, before each page a generation reads, whether memory allows it:
 * normal, throttle (read less, slower) or open (wait). It reads the heap only
 * through the injected function, so tests are deterministic.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { HeapReading, ReadHeap } from './memory-monitor.ts'

export type BreakerState = 'normal' | 'throttle' | 'open'

export interface BreakerReading {
  state: BreakerState
  heapUsed: number
  heapLimit: number
  /** heapUsed / heapLimit. */
  ratio: number
}

export interface MemoryCircuitBreakerOptions {
  readHeap: ReadHeap
  /** Default 0.70. */
  throttleRatio?: number
  /** Default 0.85. */
  openRatio?: number
}

/** The breaker stayed open longer than allowed. */
export class MemoryPressureTimeout extends Error {
  override name = 'MemoryPressureTimeout'
  constructor(readonly reading: BreakerReading) {
    super(`heap at ${(reading.ratio * 100).toFixed(0)}% of its limit`)
  }
}

export class MemoryCircuitBreaker {
  private readonly readHeap: ReadHeap
  readonly throttleRatio: number
  readonly openRatio: number

  constructor(options: MemoryCircuitBreakerOptions) {
    this.readHeap = options.readHeap
    this.throttleRatio = options.throttleRatio ?? 0.7
    this.openRatio = options.openRatio ?? 0.85
    if (!(this.throttleRatio > 0 && this.throttleRatio < this.openRatio && this.openRatio <= 1)) {
      throw new RangeError(`need 0 < throttleRatio < openRatio <= 1, got ${this.throttleRatio} and ${this.openRatio}`)
    }
  }

  check(): BreakerReading {
    const heap: HeapReading = this.readHeap()
    const ratio = heap.heapUsed / heap.heapLimit
    const state: BreakerState = ratio >= this.openRatio ? 'open' : ratio >= this.throttleRatio ? 'throttle' : 'normal'
    return { state, heapUsed: heap.heapUsed, heapLimit: heap.heapLimit, ratio }
  }

  /**
   * The first reading that is not open, polling every `pollMs` (default 100);
   * rejects with {@link MemoryPressureTimeout} after `timeoutMs` (default 5000)
   * of staying open, or with the signal's reason when aborted.
   */
  async waitUntilClosed(options: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<BreakerReading> {
    const { timeoutMs = 5000, pollMs = 100, signal } = options
    let waited = 0
    for (;;) {
      signal?.throwIfAborted()
      const reading = this.check()
      if (reading.state !== 'open') return reading
      if (waited >= timeoutMs) throw new MemoryPressureTimeout(reading)
      await sleep(pollMs, undefined, { signal }).catch((error: unknown) => {
        signal?.throwIfAborted() // the caller's reason, not a generic AbortError
        throw error
      })
      waited += pollMs
    }
  }
}
