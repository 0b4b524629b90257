import { describe, expect, it, vi } from 'vitest'
import { isRetryableConflict, retryOnConflict } from '../../src/db/retry-deadlock.ts'

const deadlock = Object.assign(new Error('Raw query failed. Code: `40P01`. Message: `deadlock detected`'), { code: 'P2010' })

describe('retryOnConflict', () => {
  it('knows a deadlock or a serialization failure as Prisma and the driver report them', () => {
    expect(isRetryableConflict(deadlock)).toBe(true)
    expect(isRetryableConflict({ code: 'P2034' })).toBe(true)
    expect(isRetryableConflict({ code: '40001' })).toBe(true)
    expect(isRetryableConflict({ code: 'P2010', meta: { code: '40P01' } })).toBe(true)
    expect(isRetryableConflict(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBe(false)
    expect(isRetryableConflict('40P01')).toBe(false)
  })

  it('runs the transaction again after a deadlock, and gives up after the last attempt', async () => {
    const once = vi.fn().mockRejectedValueOnce(deadlock).mockResolvedValue('done')
    await expect(retryOnConflict(once)).resolves.toBe('done')
    expect(once).toHaveBeenCalledTimes(2)
    const always = vi.fn().mockRejectedValue(deadlock)
    await expect(retryOnConflict(always, 3)).rejects.toBe(deadlock)
    expect(always).toHaveBeenCalledTimes(3)
  })

  it('never retries another error', async () => {
    const other = vi.fn().mockRejectedValue(new Error('NOT_FOUND'))
    await expect(retryOnConflict(other)).rejects.toThrow('NOT_FOUND')
    expect(other).toHaveBeenCalledTimes(1)
  })
})
