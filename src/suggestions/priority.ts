/**
 * How urgent it is to reach a contact. Pure: no database, no clock (`now` is
 * passed in), no globals.
 *
 *   cadence  = the frequency preference's interval, else the circle's default (cadence.ts)
 *   ratio    = (now - baseline) / cadence, baseline = the last contact, or for a
 *              contact never reached, the day it was added minus one cadence:
 *              never contacted counts as one cadence more overdue
 *            = (now - nextDueAt) / cadence + 1            (nextDueAt = baseline + cadence)
 *   priority = CIRCLE_WEIGHT[circle] * applyRecencyDecay(ratio)
 *   applyRecencyDecay(r) = r for r >= 1 (due or overdue: grows linearly),
 *                          e^(3(r - 1)) below (recently contacted: falls off smoothly,
 *                          continuous at 1, strictly increasing, never negative)
 *
 * Within one class (circle, frequency preference) the weight and cadence are
 * fixed, so the priority is a non-increasing function of `nextDueAt` (strictly
 * decreasing in exact arithmetic; rounding may tie): walking a class by
 * `nextDueAt` ascending, the next unread contact bounds every unread one. That
 * is what makes the streamed top-K exact. A contact never contacted counts from
 * the day it was added, one cadence overdue: it ranks by its circle's weight
 * and how long it has waited.
 */
import { cadenceDays } from '../contacts/cadence.ts'
import { DAY_MS } from '../time.ts'
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'

/** INNER > CLOSE > ACTIVE > CASUAL > ACQUAINTANCE > no circle. */
export const CIRCLE_WEIGHT: Readonly<Record<DunbarCircle | 'NONE', number>> = {
  INNER: 5,
  CLOSE: 4,
  ACTIVE: 3,
  CASUAL: 2,
  ACQUAINTANCE: 1.5,
  NONE: 1,
}

export interface ScoringInputs {
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
  nextDueAt: Date
}

/** Due or overdue contacts keep their ratio; not-yet-due ones fall off exponentially. */
export function applyRecencyDecay(ratio: number): number {
  return ratio >= 1 ? ratio : Math.exp(3 * (ratio - 1))
}

/** How many cadences have passed since the baseline (see the formula above). */
export function overdueRatio(contact: ScoringInputs, now: Date): number {
  return (now.getTime() - contact.nextDueAt.getTime()) / (cadenceDays(contact) * DAY_MS) + 1
}

export function calculatePriority(contact: ScoringInputs, now: Date): number {
  return CIRCLE_WEIGHT[contact.dunbarCircle ?? 'NONE'] * applyRecencyDecay(overdueRatio(contact, now))
}
