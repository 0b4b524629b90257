/**
 * A file of a multipart request, already stored by the upload plugin (upload-plugin.ts) as a
 * QUEUED Import whose job is not yet queued: the `File` scalar's only input value. It is a class
 * instance, which no JSON variable can be, so a client cannot pass one by hand (a string or an
 * object for `file` is BAD_USER_INPUT).
 */
import type { ImportKind } from '../generated/prisma/client.ts'

export class StagedUpload {
  /** Set by the mutation that takes it: an upload no mutation took is deleted when the request ends. */
  claimed = false
  constructor(
    readonly importId: string,
    readonly userId: string,
    /** The kind of import the document sends it to (importContacts or importCalendar). */
    readonly kind: ImportKind,
  ) {}
}
