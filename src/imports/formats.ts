/**
 * The readers and writers the import job uses, by kind: the one place they are wired.
 * Until the readers and writers of contacts/ and calendar/ are merged, every import fails
 * with a clear message (FAILED, "cannot read ... yet"); the merge replaces the two stubs with
 * `readContactRecords` / `applyContactBatch` and `readCalendarRecords` / `applyEventBatch`.
 */
import type { Quotas } from '../config.ts'
import type { ImportFormatHandler, ImportFormats } from './run-import.ts'

/** What the writers need from the configuration. */
export interface ImportFormatOptions {
  quotas: Quotas
  /** SUGGESTION_HORIZON_DAYS: recurring events are expanded this far ahead. */
  horizonDays: number
}

class FormatNotWired extends Error {
  override name = 'FormatNotWired'
}

function notWired<R>(what: string): ImportFormatHandler<R> {
  return {
    // eslint-disable-next-line require-yield
    async *read() {
      throw new FormatNotWired(`this server cannot read ${what} files yet`)
    },
    apply: async () => {
      throw new FormatNotWired(`this server cannot write ${what} records yet`)
    },
  }
}

/** The formats of a running server. */
export function importFormats(_options: ImportFormatOptions): ImportFormats {
  return { CONTACTS: notWired('contact'), CALENDAR: notWired('calendar') }
}
