/**
 * The one entry the import job calls to read a contacts file: the records of `chunks` in `format`, one at
 * a time (a card or a row is an {@link ImportedContact} or a {@link Rejected}); the readers are
 * vcard-reader.ts and csv-reader.ts, the mapping (and its limits) mapping.ts.
 */
import type { ContactFormat, ImportedContact, Rejected } from '../types.ts'
import { readCsvContacts } from './csv-reader.ts'
import { readVCardContacts } from './vcard-reader.ts'

import { ImportFormatError } from '../format-error.ts'

export { ImportFormatError }

/**
 * The records of a contacts file, streamed: never the whole file nor all its contacts in memory.
 *
 * @param format `vcard`; `csv` (Google or Outlook, told from the header), `csv-google`, `csv-outlook`.
 * @param options.maxRecordBytes the largest card or row (default 256 KiB): past it the record is Rejected.
 * @throws ImportFormatError (ClientError BAD_USER_INPUT) when the file as a whole is unreadable in
 *   `format`: empty, no `BEGIN:VCARD` in the first 64 KiB, a CSV header over 1,000 columns or of no known layout.
 */
export function readContactRecords(
  chunks: AsyncIterable<Uint8Array>,
  format: ContactFormat,
  options: { maxRecordBytes?: number } = {},
): AsyncIterable<ImportedContact | Rejected> {
  switch (format) {
    case 'vcard':
      return readVCardContacts(chunks, options)
    case 'csv':
      return readCsvContacts(chunks, null, options)
    case 'csv-google':
      return readCsvContacts(chunks, 'google', options)
    case 'csv-outlook':
      return readCsvContacts(chunks, 'outlook', options)
    default:
      // The job passes the stored format as a string: anything else is refused, never a TypeError.
      throw new ImportFormatError(`unknown contacts format ${JSON.stringify(String(format)).slice(0, 40)}`)
  }
}
