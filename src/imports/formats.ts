/**
 * The readers and writers the import job uses, by kind: the one place they are wired.
 * Contacts: `readContactRecords` / `applyContactBatch` (imports/contacts/); calendar:
 * `readCalendarRecords` / `applyEventBatch` (imports/calendar/).
 */
import type { Quotas } from '../config.ts'
import { readCalendarRecords } from './calendar/ics-reader.ts'
import { applyEventBatch } from './calendar/event-writes.ts'
import { applyContactBatch } from './contacts/apply-batch.ts'
import { readContactRecords } from './contacts/read-contacts.ts'
import type { ImportFormats } from './run-import.ts'
import type { ContactFormat } from './types.ts'

/** What the writers need from the configuration. */
export interface ImportFormatOptions {
  quotas: Quotas
  /** SUGGESTION_HORIZON_DAYS: recurring events are expanded this far ahead. */
  horizonDays: number
}

/** The formats of a running server. */
export function importFormats(options: ImportFormatOptions): ImportFormats {
  return {
    CONTACTS: {
      // A file that is not the format it claims: ImportFormatError (BAD_USER_INPUT), which fails the import at once.
      read: (chunks, format) => readContactRecords(chunks, format as ContactFormat),
      apply: async (prisma, userId, records, now) => {
        const { counts, rejected, dropped } = await applyContactBatch({ prisma }, userId, records, now, {
          maxContacts: options.quotas.contacts,
          maxGroups: options.quotas.groups,
        })
        // A field left out (an invalid e-mail, a group past the quota) is reported, its record still imported:
        // an error row that does not count as a rejected record.
        const leftOut = dropped.map((field) => ({ kind: 'rejected' as const, position: field.position, field: field.field, reason: `left out: ${field.reason}` }))
        return { counts, rejected: [...rejected, ...leftOut] }
      },
    },
    CALENDAR: {
      // A file that is not iCalendar: CalendarFormatError (BAD_USER_INPUT), which fails the import at once.
      read: (chunks) => readCalendarRecords(chunks),
      apply: (prisma, userId, records, now) =>
        applyEventBatch({ prisma }, userId, records, now, { horizonDays: options.horizonDays, maxEvents: options.quotas.calendarEvents }),
    },
  }
}
