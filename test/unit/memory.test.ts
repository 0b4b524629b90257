import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryCircuitBreaker, MemoryPressureTimeout } from '../../src/memory/circuit-breaker.ts'
import { MemoryMonitor } from '../../src/memory/memory-monitor.ts'

const heapAt = (used: () => number) => () => ({ heapUsed: used(), heapLimit: 100 })

describe('MemoryCircuitBreaker', () => {
  afterEach(() => void vi.useRealTimers())

  it.each([
    [69, 'normal'],
    [70, 'throttle'],
    [84, 'throttle'],
    [85, 'open'],
    [100, 'open'],
  ])('at %s%% of the limit is %s', (used, state) => {
    expect(new MemoryCircuitBreaker({ readHeap: heapAt(() => used) }).check()).toMatchObject({ state, ratio: used / 100 })
  })

  it('rejects thresholds out of order', () => {
    expect(() => new MemoryCircuitBreaker({ readHeap: heapAt(() => 0), throttleRatio: 0.9, openRatio: 0.8 })).toThrow(RangeError)
    expect(() => new MemoryCircuitBreaker({ readHeap: heapAt(() => 0), openRatio: 1.2 })).toThrow(RangeError)
  })

  it('waits while open and resumes when the heap drops', async () => {
    vi.useFakeTimers()
    let used = 90
    const breaker = new MemoryCircuitBreaker({ readHeap: heapAt(() => used) })
    const waiting = breaker.waitUntilClosed({ timeoutMs: 1000, pollMs: 100 })
    await vi.advanceTimersByTimeAsync(300)
    used = 75
    await vi.advanceTimersByTimeAsync(100)
    await expect(waiting).resolves.toMatchObject({ state: 'throttle' })
  })

  it('gives up with MemoryPressureTimeout when it stays open, and stops on abort', async () => {
    vi.useFakeTimers()
    const breaker = new MemoryCircuitBreaker({ readHeap: heapAt(() => 95) })
    const waiting = breaker.waitUntilClosed({ timeoutMs: 500, pollMs: 100 })
    const assertion = expect(waiting).rejects.toBeInstanceOf(MemoryPressureTimeout)
    await vi.advanceTimersByTimeAsync(600)
    await assertion
    const controller = new AbortController()
    const aborted = breaker.waitUntilClosed({ signal: controller.signal })
    controller.abort(new Error('client left'))
    await expect(aborted).rejects.toThrow('client left')
  })
})

describe('MemoryMonitor', () => {
  it('records the peak and the duration of an operation', async () => {
    const readings = [10, 40, 25]
    let clock = 0
    const monitor = new MemoryMonitor({ readHeap: heapAt(() => readings.shift() ?? 5), now: () => (clock += 7) })
    const { result, stats } = await monitor.wrapOperation('op', async () => 'done')
    expect(result).toBe('done')
    expect(stats).toMatchObject({ name: 'op', startHeapUsedBytes: 10, durationMs: 7 })
    expect(stats.peakHeapUsedBytes).toBeGreaterThanOrEqual(10)
  })

  it('reports a wrapped generator ended early, and runs its finally', async () => {
    let cleaned = false
    async function* source() {
      try {
        yield 1
        yield 2
      } finally {
        cleaned = true
      }
    }
    const done: unknown[] = []
    const wrapped = new MemoryMonitor({ readHeap: heapAt(() => 1) }).wrapGenerator('gen', source(), (stats) => done.push(stats))
    expect((await wrapped.next()).value).toBe(1)
    await wrapped.return(undefined)
    expect(cleaned).toBe(true)
    expect(done).toHaveLength(1)
  })
})
