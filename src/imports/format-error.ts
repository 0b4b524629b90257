/**
 * The refusal of a whole file: it is not the format it claims (no `BEGIN:VCARD` near its start, a CSV
 * header that is no contacts layout, 10,000 columns), or it is empty. A reader throws it before (or
 * instead of) yielding records; the import job turns it into a FAILED import whose `error` is the message.
 * A bad record inside a good file is not this: it is a `Rejected` record, and the rest of the file goes on.
 */
import { ClientError } from '../errors.ts'

export class ImportFormatError extends ClientError {
  override name = 'ImportFormatError'
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, details)
  }
}
