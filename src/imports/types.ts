/**
 * The contract between the parts of an import: a reader turns the uploaded bytes
 * into records one at a time (never the whole file), a writer applies a batch of
 * records in one transaction, and the job (imports/run-import.ts) drives both,
 * checkpointing after each batch. Formats: vCard 3.0 / 4.0, Google and Outlook
 * CSV (contacts), iCalendar (calendar).
 */

/** The formats an import can be read as; `csv` is detected as Google or Outlook from its header. */
export type ContactFormat = 'vcard' | 'csv' | 'csv-google' | 'csv-outlook'
export type CalendarFormat = 'ics'

/** Where a record sits in its file, for the report: a card's number (1-based) or a CSV line. */
export interface RecordPosition {
  /** 1-based card or event number, or the line a CSV row starts on. */
  position: number
  /** The record's text (at most 2 KiB kept), for the "download the rejected rows" link. */
  raw?: string
}

/** A record that cannot be imported, and why; the rest of the file goes on. */
export interface Rejected extends RecordPosition {
  kind: 'rejected'
  /** The field at fault (e.g. `EMAIL`, `TZ`, `Birthday`), when one is. */
  field?: string
  reason: string
}

/** A contact as read from a card or a row, mapped to our fields (pure: no database). */
export interface ImportedContact extends RecordPosition {
  kind: 'contact'
  /** The card's UID, or a stable hash of the CSV row when it has none. */
  externalId: string
  name: string
  /** Every e-mail, the first is primary; lower-cased for matching only, stored as given. */
  emails: string[]
  /** Every phone, as written; the first is primary. */
  phones: string[]
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  /** Other social profile URLs: `{ label: url }`. */
  otherSocialMedia: Record<string, string> | null
  location: string | null
  /** A valid IANA zone, else null. */
  timezone: string | null
  /** The card's NOTE: written on create only (the user's own notes are never overwritten). */
  customNotes: string | null
  /** `YYYY-MM-DD`, or `--MM-DD` without a year. */
  birthday: string | null
  /** Same format as `birthday` (vCard ANNIVERSARY / X-ANNIVERSARY); absent when the record has none. */
  anniversary?: string | null
  /** Categories / Google "Labels": become groups (created when missing) and tags. */
  groups: string[]
  source: 'VCARD' | 'CSV'
  /**
   * Optional fields of the record that were left out (a malformed e-mail or phone, an unknown time zone,
   * a note over 10,000 characters...): the contact is imported without them, and each one is reported
   * (an ImportError row with `field` and `reason`, not counted as a rejected record). Nothing is lost silently.
   */
  dropped?: DroppedField[]
}

/** An optional field left out of an imported record, and why (see {@link ImportedContact.dropped}). */
export interface DroppedField {
  field: string
  reason: string
}

/** A busy event as read from an .ics file (one VEVENT with its UID; recurring ones expanded by the writer). */
export interface ImportedEvent extends RecordPosition {
  kind: 'event'
  uid: string
  title: string | null
  /** The VEVENT(s) of this UID with the VTIMEZONEs they use, as iCalendar text, when it recurs. */
  seriesIcs: string | null
  /** For a single event: its busy interval. */
  startsAt: Date | null
  endsAt: Date | null
  /**
   * Set when the event is not busy time (`STATUS:CANCELLED`, `TRANSP:TRANSPARENT`, or a timed event
   * without duration): no row is stored, and what an earlier import stored under its UID is removed.
   */
  notBusy?: 'cancelled' | 'transparent' | 'empty'
  /**
   * For a single event read in the user's zone (all-day dates, floating times): its local start and
   * end (`2026-10-20`, `2026-10-20T10:00:00`). The writer turns them into instants in the user's zone
   * at write time; `startsAt`/`endsAt` are those read in the reader's `timezone` option (default UTC).
   */
  wallClock?: { start: string; end: string }
  /** A synced event (sync/calendar-sync.ts): the href of the calendar object it came from; absent for a file. */
  remoteHref?: string
}

/** What one batch (or a whole import) did. */
export interface ImportCounts {
  created: number
  updated: number
  unchanged: number
  rejected: number
}
