/**
 * The readers and writers the import job uses, by kind: the one place they are wired.
 * Calendar: `readCalendarRecords` / `applyEventBatch` (imports/calendar/). Contacts: until the
 * readers and writers of contacts/ are merged, a contacts import fails with a clear message
 * (FAILED, "cannot read contact files yet"); the merge replaces that stub with
 * `readContactRecords` / `applyContactBatch`.
 */
import type { Quotas } from '../config.ts'
import { readCalendarRecords } from './calendar/ics-reader.ts'
import { applyEventBatch } from './calendar/event-writes.ts'
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
export function importFormats(options: ImportFormatOptions): ImportFormats {
  return {
    CONTACTS: notWired('contact'),
    CALENDAR: {
      // A file that is not iCalendar: CalendarFormatError (BAD_USER_INPUT), which fails the import at once.
      read: (chunks) => readCalendarRecords(chunks),
      apply: (prisma, userId, records, now) =>
        applyEventBatch({ prisma }, userId, records, now, { horizonDays: options.horizonDays, maxEvents: options.quotas.calendarEvents }),
    },
  }
}
