import { describe, expect, it } from 'vitest'
import { ClientError } from '../../src/errors.ts'
import { AdmissionControl } from '../../src/suggestions/admission.ts'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('AdmissionControl', () => {
  it('runs at most `concurrency` walks and lets the next in when one ends', async () => {
    const admission = new AdmissionControl({ concurrency: 2, queueLimit: 10 })
    const a = await admission.acquire('u1')
    await admission.acquire('u1')
    let third: (() => void) | undefined
    void admission.acquire('u1').then((release) => (third = release))
    await tick()
    expect(third).toBeUndefined()
    expect(admission.stats).toEqual({ running: 2, waiting: 1 })
    a()
    a() // releasing twice gives back one place only
    await tick()
    expect(third).toBeTypeOf('function')
    expect(admission.stats).toEqual({ running: 2, waiting: 0 })
  })

  it('is fair across users: one user with many waiting walks does not starve another', async () => {
    const admission = new AdmissionControl({ concurrency: 1, queueLimit: 10 })
    const first = await admission.acquire('busy')
    const order: string[] = []
    const enqueue = (user: string, name: string) => void admission.acquire(user).then((release) => (order.push(name), release()))
    enqueue('busy', 'busy-1')
    enqueue('busy', 'busy-2')
    enqueue('busy', 'busy-3')
    enqueue('quiet', 'quiet-1')
    first()
    for (let i = 0; i < 10; i++) await tick()
    expect(order).toEqual(['busy-1', 'quiet-1', 'busy-2', 'busy-3'])
  })

  it('refuses new streams past the queue bound with RATE_LIMITED and a retry hint', async () => {
    const admission = new AdmissionControl({ concurrency: 1, queueLimit: 2 })
    expect(() => admission.assertCanAdmit()).not.toThrow()
    await admission.acquire('u')
    expect(() => admission.assertCanAdmit()).not.toThrow()
    void admission.acquire('u')
    void admission.acquire('v')
    let error: unknown
    try {
      admission.assertCanAdmit()
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ClientError)
    expect(error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } })
    expect((error as ClientError).details.retryAfterSeconds).toBeGreaterThanOrEqual(1)
  })

  it('drops a waiter whose stream ended before its turn', async () => {
    const admission = new AdmissionControl({ concurrency: 1, queueLimit: 10 })
    const release = await admission.acquire('u')
    const controller = new AbortController()
    const waiting = admission.acquire('u', controller.signal)
    expect(admission.stats.waiting).toBe(1)
    controller.abort(new Error('left'))
    await expect(waiting).rejects.toThrow('left')
    expect(admission.stats.waiting).toBe(0)
    release()
    expect(admission.stats).toEqual({ running: 0, waiting: 0 })
  })
})
