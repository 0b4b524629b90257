/**
 * Runs a transaction again when PostgreSQL chose it as a deadlock's victim (SQLSTATE 40P01) or
 * aborted it on a serialization failure (40001), as the PostgreSQL manual advises for both
 * ("applications must be prepared to retry", §13.2 and §13.3.4). Writes that lock the same rows
 * in different orders by nature (a group's deletion takes the group, then its members; a
 * membership change takes the contact, then its groups) stay correct this way: the victim's work
 * was rolled back whole, and its second run sees the other's commit.
 */

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = ['40P01', '40001']

/** Whether `error` (a Prisma or driver error) reports a deadlock or a serialization failure. */
export function isRetryableConflict(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message, meta } = error as { code?: unknown; message?: unknown; meta?: { code?: unknown } }
  if (code === 'P2034') return true // Prisma: "write conflict or a deadlock"
  if (typeof code === 'string' && RETRYABLE.includes(code)) return true
  if (typeof meta?.code === 'string' && RETRYABLE.includes(meta.code)) return true
  return typeof message === 'string' && RETRYABLE.some((state) => message.includes(`\`${state}\``) || message.includes(`code: ${state}`))
}

/**
 * `run()`, run again (up to `attempts` times in all) while it fails with a deadlock or a serialization failure.
 *
 * @param run one whole transaction (it must not have effects outside the database).
 * @throws the last error, or any other error at once.
 */
export async function retryOnConflict<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error
    }
  }
}
