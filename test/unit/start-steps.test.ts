import { afterEach, describe, expect, it, vi } from 'vitest'
import { PROGRESS_EVERY_MS, startSteps } from '../../src/start-steps.ts'

function capture() {
  const lines: string[] = []
  return { out: { write: (text: string) => lines.push(text) }, text: () => lines.join('') }
}

describe('startSteps', () => {
  afterEach(() => vi.useRealTimers())

  it('says the seconds a long step has taken while it runs, then done with its summary', async () => {
    vi.useFakeTimers()
    const { out, text } = capture()
    let finish!: (value: number) => void
    const running = startSteps(out).run('creating the embedded database', () => new Promise<number>((resolve) => (finish = resolve)), (n) => `${n} tables`)
    expect(text()).toBe('- creating the embedded database...')
    await vi.advanceTimersByTimeAsync(2 * PROGRESS_EVERY_MS)
    expect(text()).toBe('- creating the embedded database... 5 s... 10 s...')
    finish(3)
    await expect(running).resolves.toBe(3)
    expect(text()).toMatch(/^- creating the embedded database\.\.\. 5 s\.\.\. 10 s\.\.\. done, 3 tables \(\d+\.\d s\)\n$/)
    // The ticker stops with the step.
    await vi.advanceTimersByTimeAsync(3 * PROGRESS_EVERY_MS)
    expect(text()).not.toContain('15 s')
  })

  it('a failed step says so and stops ticking', async () => {
    vi.useFakeTimers()
    const { out, text } = capture()
    await expect(startSteps(out).run('applying migrations', () => Promise.reject(new Error('no')))).rejects.toThrow('no')
    await vi.advanceTimersByTimeAsync(2 * PROGRESS_EVERY_MS)
    expect(text()).toBe('- applying migrations... failed\n')
  })

  it('without an output says nothing and sets no timer', async () => {
    const timers = { setInterval: vi.fn(), clearInterval: vi.fn() }
    await expect(startSteps(null, timers as never).run('x', async () => 1)).resolves.toBe(1)
    expect(timers.setInterval).not.toHaveBeenCalled()
  })

  it('ends with both URLs and how to sign in', () => {
    const { out, text } = capture()
    startSteps(out).ready('http://127.0.0.1:4000/graphql', 'prm_abc')
    expect(text()).toContain('Web app   http://127.0.0.1:4000/\n')
    expect(text()).toContain('GraphiQL  http://127.0.0.1:4000/graphql\n')
    expect(text()).toContain('Bearer prm_abc')
  })
})
