/**
 * The suggestion-id scheme: `sg_<contact>_<start ms>_<end ms>` (or `sg_<contact>_none`
 * for a suggestion without a slot). The same contact and slot give the same id, and the
 * id says which contact and slot it is, so accept/dismiss/snooze and `node(id)` need
 * nothing else. Its own module so that the GraphQL layer and the status module read ids
 * without importing the engine.
 */
import type { Interval } from '../calendar/free-slots.ts'
import { isUuid } from '../db/uuid.ts'
import { isStorableDate } from '../validation.ts'

/** The id of the suggestion of `contactId` in `slot` (null: without a slot). */
export function suggestionId(contactId: string, slot: Interval | null): string {
  return `sg_${contactId}_${slot ? `${slot.start.getTime()}_${slot.end.getTime()}` : 'none'}`
}

/** The contact and slot of a suggestion id, or undefined when it is not one. */
export function parseSuggestionId(id: string): { contactId: string; slot: Interval | null } | undefined {
  // Lower case only, as ids are written: one suggestion, one spelling (one row).
  const match = /^sg_([0-9a-f-]{36})_(?:none|(\d{1,15})_(\d{1,15}))$/.exec(id)
  if (!match) return undefined
  const [, contactId, start, end] = match
  // 36 hex digits and dashes in any order is not a uuid; PostgreSQL would refuse it (a 500, not NOT_FOUND).
  if (!isUuid(contactId!)) return undefined
  if (start === undefined || end === undefined) return { contactId: contactId!, slot: null }
  const slot = { start: new Date(Number(start)), end: new Date(Number(end)) }
  // A slot the database cannot store (15 digits reach the year 33658) identifies nothing.
  if (!(slot.end > slot.start) || !isStorableDate(slot.start) || !isStorableDate(slot.end)) return undefined
  return { contactId: contactId!, slot }
}
