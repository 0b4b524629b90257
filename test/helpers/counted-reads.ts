/**
 * A Prisma client whose contact reads are counted when issued, for tests that a stream reads nothing more once
 * its consumer leaves, without a fixed pause.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'

/** Contact reads issued so far, and those not yet settled. */
export interface ReadCount {
  issued: number
  running: number
}

/**
 * `prisma` with the `contact` model's calls (and, with `raw`, `$queryRaw`/`$queryRawUnsafe`, which read the first
 * pages of every class in one statement) counted when issued and tracked until they settle.
 */
export function countContactReads(prisma: PrismaClient, { raw = false } = {}): { client: PrismaClient; reads: ReadCount } {
  const reads: ReadCount = { issued: 0, running: 0 }
  const counted = (fn: (...args: unknown[]) => unknown, self: object) => (...args: unknown[]) => {
    reads.issued++
    reads.running++
    return Promise.resolve(fn.apply(self, args)).finally(() => reads.running--)
  }
  const client = new Proxy(prisma, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (raw && (property === '$queryRawUnsafe' || property === '$queryRaw')) return counted(value as (...args: unknown[]) => unknown, target)
      if (property !== 'contact') return value
      return new Proxy(value as object, {
        get(model, method, modelReceiver) {
          const fn: unknown = Reflect.get(model, method, modelReceiver)
          return typeof fn === 'function' ? counted(fn as (...args: unknown[]) => unknown, model) : fn
        },
      })
    },
  })
  return { client, reads }
}

/**
 * Resolves once the code left behind has run out of work: no counted read is running, and a whole event-loop
 * turn (the streams' own pause between pages) passed without a new one. Not a pause of some milliseconds: a
 * read the code still schedules, after a page or a turn, is issued (and counted) before this resolves.
 */
export async function settled(reads: ReadCount): Promise<void> {
  for (;;) {
    const issued = reads.issued
    await nextTurn()
    if (reads.running === 0 && reads.issued === issued) return
  }
}
