/** How long the event loop is held by work, measured in the main thread's CPU time so that a busy machine does not inflate it. */
import { readFileSync } from 'node:fs'

/**
 * CPU time (ms) of this process's main thread, the one that runs the event loop, from Linux's
 * `/proc/self/task/<pid>/stat` (utime + stime, in clock ticks of 10 ms; proc(5)). `process.cpuUsage()`
 * counts every thread: V8's parallel GC helpers and libuv's pool made one turn look like 135-209 ms of
 * CPU while the main thread spent 40-60 ms. Elsewhere than Linux it falls back to the process's figure.
 */
export function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    const { user, system } = process.cpuUsage()
    return (user + system) / 1000
  }
}

/** The longest run of main-thread CPU time (ms) the event loop spent without coming back to a new turn, while it runs. */
export function watchLoopTurns() {
  let last = mainThreadCpuMs()
  let maxMs = 0
  let running = true
  const tick = () => {
    const now = mainThreadCpuMs()
    maxMs = Math.max(maxMs, now - last)
    last = now
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  return {
    stop() {
      running = false
      return maxMs
    },
  }
}
