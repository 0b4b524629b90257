/**
 * At most N exports (and feed fetches) of one user at once in this process: past it RATE_LIMITED (HTTP 429).
 * Keyed by the user's pool (auth/user-pools.ts perUserPoolKey: session, partners, feed), each with N places.
 */
export class ExportLimiter {
  private readonly active = new Map<string, number>()
  constructor(readonly perUser: number) {}

  /** Takes a place for `userId` and returns its release (idempotent), or null when the user is at the limit. */
  tryAcquire(userId: string): (() => void) | null {
    const count = this.active.get(userId) ?? 0
    if (count >= this.perUser) return null
    this.active.set(userId, count + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.active.get(userId) ?? 1) - 1
      if (left > 0) this.active.set(userId, left)
      else this.active.delete(userId)
    }
  }

  /** Exports under way in this process (tests: a leaked place shows here). */
  total(): number {
    let sum = 0
    for (const count of this.active.values()) sum += count
    return sum
  }
}
