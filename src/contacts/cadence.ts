/**
 * How often a contact should be reached, and so when it is next due. Pure.
 *
 * A frequency preference sets the cadence; FLEXIBLE and no preference fall
 * back to the Dunbar circle's default; no circle either: yearly.
 */
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'
import { DAY_MS } from '../time.ts'


export const FREQUENCY_DAYS: Readonly<Record<Exclude<FrequencyPreference, 'FLEXIBLE'>, number>> = {
  WEEKLY: 7,
  BIWEEKLY: 14,
  MONTHLY: 30,
  QUARTERLY: 90,
  BIANNUAL: 182,
  YEARLY: 365,
}

/** The default cadence of each circle (inner 5: weekly ... acquaintances 500: yearly). */
export const CIRCLE_DEFAULT_DAYS: Readonly<Record<DunbarCircle, number>> = {
  INNER: 7,
  CLOSE: 14,
  ACTIVE: 30,
  CASUAL: 90,
  ACQUAINTANCE: 365,
}

export const UNASSIGNED_DEFAULT_DAYS = 365

export interface CadenceInputs {
  frequencyPreference: FrequencyPreference | null
  dunbarCircle: DunbarCircle | null
}

export function cadenceDays({ frequencyPreference, dunbarCircle }: CadenceInputs): number {
  if (frequencyPreference !== null && frequencyPreference !== 'FLEXIBLE') return FREQUENCY_DAYS[frequencyPreference]
  if (dunbarCircle !== null) return CIRCLE_DEFAULT_DAYS[dunbarCircle]
  return UNASSIGNED_DEFAULT_DAYS
}

export interface DueInputs extends CadenceInputs {
  lastContactDate: Date | null
  /** When the contact was added; a never-contacted contact is due from then. */
  createdAt: Date
}

/**
 * When the contact is due: last contact + cadence. A contact never contacted
 * is due since it was added. Millisecond precision, like the column.
 */
export function computeNextDueAt(contact: DueInputs): Date {
  if (contact.lastContactDate === null) return new Date(contact.createdAt.getTime())
  return new Date(contact.lastContactDate.getTime() + cadenceDays(contact) * DAY_MS)
}
