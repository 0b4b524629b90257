/**
 * A source of prepared statements whose contact reads are counted when issued, for tests that a walk reads
 * nothing more once its consumer leaves, without a fixed pause.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { ContactRowSource } from '../../src/contacts/keyset/minimal-rows.ts'

/** Contact reads issued so far, and those not yet settled. */
export interface ReadCount {
  issued: number
  running: number
}

/** `source` with its prepared statements (the suggestion walk's pages) counted when issued and tracked until they settle. */
export function countPreparedReads(source: ContactRowSource): { source: ContactRowSource; reads: ReadCount } {
  const reads: ReadCount = { issued: 0, running: 0 }
  return {
    reads,
    source: {
      queryPrepared(statement, values) {
        reads.issued++
        reads.running++
        return source.queryPrepared(statement, values).finally(() => reads.running--)
      },
    },
  }
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
