/**
 * Accepted suggestions written to the calendar an account chose for them (issue 15, item 4;
 * `Account.writeCalendarUrl`), and removed when they are dismissed or undone.
 *
 * The event is the export's (exports/icalendar.ts `suggestionToVEvent`: UID `<suggestion id>@<domain>`,
 * SUMMARY "Catch up with <name>", STATUS CONFIRMED, UTC times) in its own calendar object resource
 * `<calendar URL><suggestion id>.ics` (RFC 4791 §4.1: one UID per resource). Because the UID names the
 * suggestion, the calendar sync reading it back skips it (event-writes.ts: the plan is stored already, as
 * busy time it would double), and the resource's name is found again from the id alone to delete it.
 */
import { deleteObject, listMembers, putObject } from '../dav/client.ts'
import { DavHttpError, PreconditionFailedError, type DavSession } from '../dav/types.ts'
import { CALENDAR_TAIL, calendarHead, suggestionToVEvent } from '../exports/icalendar.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'

/** The UID domain when none is given (as app.ts's default for exports). */
export const DEFAULT_SUGGESTION_UID_DOMAIN = 'suggestions.invalid'

/** An accepted suggestion with its slot: `start`/`end` the slot, `contactName` for the title. */
export interface AcceptedSuggestion {
  id: string
  contactName: string
  start: Date
  end: Date
}

/** `<calendarUrl>/<id>.ics`: the id percent-encoded as one path segment (suggestion ids are `sg_<uuid>_<ms>_<ms>`). */
export function suggestionEventUrl(calendarUrl: string, suggestionId: string): string {
  const base = calendarUrl.endsWith('/') ? calendarUrl : `${calendarUrl}/`
  return new URL(`${encodeURIComponent(suggestionId)}.ics`, base).toString()
}

/** The VCALENDAR of one accepted suggestion (see the module comment); DTSTAMP and LAST-MODIFIED are `now`. */
export function acceptedSuggestionIcs(suggestion: AcceptedSuggestion, now: Date, options: { uidDomain?: string; reason?: string } = {}): string {
  const vevent = suggestionToVEvent(
    { id: suggestion.id, contactName: suggestion.contactName, reason: options.reason ?? '', slotStart: suggestion.start, slotEnd: suggestion.end, updatedAt: now },
    options.uidDomain ?? DEFAULT_SUGGESTION_UID_DOMAIN,
  )
  // No reason: no empty DESCRIPTION line.
  return calendarHead() + vevent.replace(/^DESCRIPTION:\r\n/m, '') + CALENDAR_TAIL
}

/**
 * Creates the event of an accepted suggestion in the calendar `calendarUrl` (PUT with `If-None-Match: *`,
 * RFC 4791 §5.3.2 / RFC 7232: never overwrites). A 412 means the resource exists already (accepted before):
 * fine, nothing is written.
 *
 * @returns the resource's URL and its ETag (null when the server gave none, or it was there already).
 * @throws the DAV errors of dav/client.ts (DavHttpError: 401/403, 5xx, a timeout), UnsafeUrlError.
 */
export async function writeAcceptedSuggestion(
  session: DavSession,
  calendarUrl: string,
  suggestion: AcceptedSuggestion,
  now: Date,
  options: { uidDomain?: string; reason?: string } = {},
): Promise<{ href: string; etag: string | null }> {
  const href = suggestionEventUrl(calendarUrl, suggestion.id)
  try {
    const { etag } = await putObject(session, href, acceptedSuggestionIcs(suggestion, now, options), 'text/calendar; charset=utf-8', { ifNoneMatch: '*' })
    return { href, etag: etag ?? null }
  } catch (error) {
    if (error instanceof PreconditionFailedError || (error instanceof DavHttpError && error.status === 412)) return { href, etag: null }
    throw error
  }
}

/**
 * Deletes the event of suggestion `suggestionId` from the calendar `calendarUrl` (DELETE, RFC 4918 §9.6).
 * Already gone (404, 410): fine.
 *
 * @throws the DAV errors of dav/client.ts (DavHttpError: 401/403, 5xx, a timeout), UnsafeUrlError.
 */
export async function removeAcceptedSuggestion(session: DavSession, calendarUrl: string, suggestionId: string): Promise<void> {
  try {
    await deleteObject(session, suggestionEventUrl(calendarUrl, suggestionId))
  } catch (error) {
    if (error instanceof DavHttpError && (error.status === 404 || error.status === 410)) return
    throw error
  }
}

/** Accepted suggestions written per sync at most (the rest on the next one). */
const MAX_WRITES_PER_SYNC = 500

/** The suggestion id of a member of the write calendar that this server wrote (`<suggestion id>.ics`), or null. */
function suggestionIdOf(href: string): string | null {
  const name = decodeURIComponent(href.replace(/\/+$/, '').split('/').pop() ?? '')
  return /^sg_[\w-]+\.ics$/.test(name) ? name.slice(0, -'.ics'.length) : null
}

/**
 * Brings the write calendar in step with the user's accepted suggestions whose slot has not ended:
 * one listing of the calendar (PROPFIND), a PUT for each accepted one missing there, a DELETE for each
 * event this server wrote whose suggestion is no longer accepted (dismissed, snoozed, undone, restored).
 * Members it did not write (names other than `sg_<…>.ics`) are never touched.
 *
 * @returns what it wrote and removed.
 * @throws the DAV errors of dav/client.ts.
 */
export async function reconcileAcceptedSuggestions(
  deps: { prisma: PrismaClient; now: () => Date },
  userId: string,
  calendarUrl: string,
  session: DavSession,
  options: { uidDomain?: string } = {},
): Promise<{ written: number; removed: number }> {
  const now = deps.now()
  const present = new Set<string>()
  for await (const page of listMembers(session, calendarUrl)) {
    for (const member of page) {
      const id = suggestionIdOf(member.href)
      if (id) present.add(id)
    }
  }
  const accepted = await deps.prisma.suggestion.findMany({
    where: { userId, status: 'ACCEPTED', slotStart: { not: null }, slotEnd: { gt: now } },
    select: { id: true, slotStart: true, slotEnd: true, contact: { select: { name: true } } },
    orderBy: { slotStart: 'asc' },
    take: MAX_WRITES_PER_SYNC,
  })
  let written = 0
  for (const suggestion of accepted) {
    if (present.delete(suggestion.id)) continue
    await writeAcceptedSuggestion(session, calendarUrl, { id: suggestion.id, contactName: suggestion.contact.name, start: suggestion.slotStart!, end: suggestion.slotEnd! }, now, options)
    written++
  }
  // What is left was written here for a suggestion no longer accepted (or whose slot is over).
  for (const id of present) await removeAcceptedSuggestion(session, calendarUrl, id)
  return { written, removed: present.size }
}
