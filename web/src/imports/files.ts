/**
 * Files in and out over plain HTTP: the upload to `/import/*` (the body is the file, never
 * read into memory by the page: `fetch` streams the `File`), the downloads from `/export/*`,
 * and the CSV of an import's rejected rows. Requests go through {@link ApiClient.http}
 * (bearer token); a refusal becomes an {@link ApiError} in the server's vocabulary.
 */
import type { ApiClient } from '../api/client.ts'
import { ApiError, toApiError, type WireError } from '../api/errors.ts'
import { MINUTE_MS } from '../time.ts'

export type ImportKind = 'contacts' | 'calendar'

export interface ImportTarget {
  kind: ImportKind
  /** The upload's Content-Type, which tells the server the format. */
  contentType: 'text/vcard' | 'text/csv' | 'text/calendar'
  /** POST the file here. */
  path: '/import/contacts' | '/import/calendar'
}

const TARGETS: Record<string, ImportTarget> = {
  vcf: { kind: 'contacts', contentType: 'text/vcard', path: '/import/contacts' },
  vcard: { kind: 'contacts', contentType: 'text/vcard', path: '/import/contacts' },
  csv: { kind: 'contacts', contentType: 'text/csv', path: '/import/contacts' },
  ics: { kind: 'calendar', contentType: 'text/calendar', path: '/import/calendar' },
  ical: { kind: 'calendar', contentType: 'text/calendar', path: '/import/calendar' },
}

/** The `accept` of the file input: what {@link importTargetOf} knows. */
export const ACCEPTED_FILES = '.vcf,.vcard,.csv,.ics,.ical,text/vcard,text/csv,text/calendar'

/** Where a file goes, from its name's extension (case-insensitive); null when it is none of .vcf, .vcard, .csv, .ics, .ical. */
export function importTargetOf(fileName: string): ImportTarget | null {
  const dot = fileName.lastIndexOf('.')
  if (dot < 0) return null
  return TARGETS[fileName.slice(dot + 1).toLowerCase()] ?? null
}

/**
 * A refused answer as an {@link ApiError}: the first error of its JSON body
 * (`{"errors":[{"message","extensions":{"code"}}]}`), else one made from the status
 * (401 `UNAUTHENTICATED`, 404 `NOT_FOUND`, 413 `BAD_REQUEST`, others `UNKNOWN`).
 */
export async function errorOfResponse(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { errors?: WireError[] }
    if (Array.isArray(body.errors) && body.errors.length > 0) return toApiError(body.errors)
  } catch {
    // Not JSON (a proxy's page, an empty body): the status says enough.
  }
  const byStatus: Record<number, [string, ApiError['code']]> = {
    401: ['Sign in again.', 'UNAUTHENTICATED'],
    404: ['Not found.', 'NOT_FOUND'],
    413: ['The file is larger than the server accepts.', 'BAD_REQUEST'],
  }
  const [message, code] = byStatus[response.status] ?? [`The server answered ${response.status}.`, 'UNKNOWN']
  return new ApiError(message, code)
}

/**
 * Uploads `file` to its import route (from its name: {@link importTargetOf}) as the request body.
 * Resolves with the new import's global id (the 202's `{"id"}`). Rejects with an {@link ApiError}:
 * `BAD_USER_INPUT` for a name the server takes no file of (not sent), the server's refusal
 * (`UNAUTHENTICATED`, `BAD_REQUEST` past IMPORT_MAX_BYTES, `BAD_USER_INPUT` for content that is not
 * its format), `NETWORK` without an answer.
 */
export async function uploadImport(http: ApiClient['http'], file: File): Promise<{ id: string; target: ImportTarget }> {
  const target = importTargetOf(file.name)
  if (!target) throw new ApiError(`${file.name} is not a .vcf, .csv or .ics file.`, 'BAD_USER_INPUT')
  let response: Response
  try {
    response = await http(target.path, { method: 'POST', headers: { 'content-type': target.contentType }, body: file })
  } catch {
    throw new ApiError('The server cannot be reached.', 'NETWORK')
  }
  if (!response.ok) throw await errorOfResponse(response)
  const body = (await response.json().catch(() => null)) as { id?: unknown } | null
  if (typeof body?.id !== 'string') throw new ApiError('The server did not say which import it started.', 'UNKNOWN')
  return { id: body.id, target }
}

/** Hands `blob` to the browser as a download named `fileName` (an object URL on a clicked link, freed soon after). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  // The download has started from the URL by the time the click returns in Chromium and
  // Firefox; Safari reads it a little later. A minute is generous and frees the memory.
  setTimeout(() => URL.revokeObjectURL(url), MINUTE_MS)
}

/** The exports the server streams, with the file name the download gets. */
export const EXPORTS = [
  { path: '/export/contacts.vcf', fileName: 'contacts.vcf', label: 'Contacts as vCard (.vcf)' },
  { path: '/export/contacts.csv', fileName: 'contacts.csv', label: 'Contacts as CSV (.csv)' },
  { path: '/export/calendar.ics', fileName: 'calendar.ics', label: 'Calendar as iCalendar (.ics)' },
] as const

/**
 * Fetches an export with the bearer header and saves it. The answer is read into a Blob (the
 * browser keeps a large one on disk, not in the page's heap). Rejects with an {@link ApiError}.
 */
export async function downloadExport(http: ApiClient['http'], path: string, fileName: string): Promise<void> {
  let response: Response
  try {
    response = await http(path)
  } catch {
    throw new ApiError('The server cannot be reached.', 'NETWORK')
  }
  if (!response.ok) throw await errorOfResponse(response)
  saveBlob(await response.blob(), fileName)
}

export interface RejectedRow {
  position: number
  field?: string | null
  reason: string
  raw?: string | null
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading =, +, - or @ is prefixed with ' so a spreadsheet does not run it. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

export const REJECTED_ROWS_HEADER = 'position,field,reason,raw\r\n'

/** CSV lines (CRLF-terminated) of rejected rows: position, field, reason and the row or card as it was in the file. */
export function rejectedRowsCsv(rows: readonly RejectedRow[]): string {
  return rows.map((row) => [String(row.position), row.field ?? '', row.reason, row.raw ?? ''].map(csvField).join(',') + '\r\n').join('')
}
