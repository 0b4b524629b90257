/** Heap readings, and the peak and duration of an operation. */
import { getHeapStatistics } from 'node:v8'

/** Bytes. `heapLimit` is V8's limit (`--max-old-space-size` and friends). */
export interface HeapReading {
  heapUsed: number
  heapLimit: number
}

export type ReadHeap = () => HeapReading

/** The process's own heap: one V8 call (`process.memoryUsage()` also reads the RSS, which costs more, and this runs per page). */
export const readProcessHeap: ReadHeap = () => {
  const heap = getHeapStatistics()
  return { heapUsed: heap.used_heap_size, heapLimit: heap.heap_size_limit }
}

export interface OperationStats {
  name: string
  durationMs: number
  startHeapUsedBytes: number
  peakHeapUsedBytes: number
}

/** Records the peak heap and the duration of operations, sampling while they run. */
export class MemoryMonitor {
  private readonly readHeap: ReadHeap
  private readonly sampleEveryMs: number
  private readonly now: () => number

  constructor(options: { readHeap?: ReadHeap; sampleEveryMs?: number; now?: () => number } = {}) {
    this.readHeap = options.readHeap ?? readProcessHeap
    this.sampleEveryMs = options.sampleEveryMs ?? 50
    this.now = options.now ?? (() => performance.now())
  }

  read(): HeapReading {
    return this.readHeap()
  }

  private start(name: string) {
    const started = this.now()
    const startHeap = this.readHeap().heapUsed
    let peak = startHeap
    const sample = () => {
      peak = Math.max(peak, this.readHeap().heapUsed)
    }
    const timer = setInterval(sample, this.sampleEveryMs)
    timer.unref()
    return {
      sample,
      finish: (): OperationStats => {
        clearInterval(timer)
        sample()
        return { name, durationMs: this.now() - started, startHeapUsedBytes: startHeap, peakHeapUsedBytes: peak }
      },
    }
  }

  /** Runs `fn` and returns its result with its stats; the sampling timer is always cleared. */
  async wrapOperation<T>(name: string, fn: () => Promise<T>): Promise<{ result: T; stats: OperationStats }> {
    const run = this.start(name)
    try {
      const result = await fn()
      return { result, stats: run.finish() }
    } catch (error) {
      run.finish()
      throw error
    }
  }

  /**
   * Wraps an async generator: `onDone` gets the stats when it ends, throws or
   * is returned early; `return()` reaches the source, so its `finally` runs.
   */
  async *wrapGenerator<T>(
    name: string,
    source: AsyncGenerator<T, void, undefined>,
    onDone: (stats: OperationStats) => void,
  ): AsyncGenerator<T, void, undefined> {
    const run = this.start(name)
    try {
      for await (const item of source) {
        run.sample()
        yield item
      }
    } finally {
      onDone(run.finish())
    }
  }
}
