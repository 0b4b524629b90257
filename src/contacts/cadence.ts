/**
 * How often a contact should be reached, and so when it is next due. Pure.
 *
 * A frequency preference sets the cadence; FLEXIBLE and no preference fall
 * back to the Dunbar circle's default; no circle either: yearly.
 */
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'
import { DAY_MS } from '../time.ts'

/** The days of each frequency but FLEXIBLE (which follows the circle). */
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

/** The cadence of a contact with neither a frequency (or FLEXIBLE) nor a circle. */
export const UNASSIGNED_DEFAULT_DAYS = 365

/** What a contact's cadence is computed from: the frequency in force (own or a group's) and the circle. */
export interface CadenceInputs {
  frequencyPreference: FrequencyPreference | null
  dunbarCircle: DunbarCircle | null
}

/** The cadence in days: the frequency's, else (FLEXIBLE or none) the circle's default, else yearly. */
export function cadenceDays({ frequencyPreference, dunbarCircle }: CadenceInputs): number {
  if (frequencyPreference !== null && frequencyPreference !== 'FLEXIBLE') return FREQUENCY_DAYS[frequencyPreference]
  if (dunbarCircle !== null) return CIRCLE_DEFAULT_DAYS[dunbarCircle]
  return UNASSIGNED_DEFAULT_DAYS
}

/** What {@link computeNextDueAt} needs: the cadence inputs, the last contact and when the contact was added. */
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

/** Where a contact's cadence comes from (the GraphQL `CadenceSource`). */
export type CadenceSource = 'CONTACT' | 'GROUP' | 'CIRCLE' | 'DEFAULT'

/** A contact's cadence and why: see {@link explainCadence}. */
export interface CadenceExplanation {
  days: number
  /** The frequency in force; null when the circle's default or the yearly default applies. */
  frequency: FrequencyPreference | null
  source: CadenceSource
  /** Readable rule, e.g. "Every 7 days (weekly), from the group Family's default". */
  rule: string
}

const FREQUENCY_WORD: Readonly<Record<FrequencyPreference, string>> = {
  WEEKLY: 'weekly',
  BIWEEKLY: 'every two weeks',
  MONTHLY: 'monthly',
  QUARTERLY: 'quarterly',
  BIANNUAL: 'twice a year',
  YEARLY: 'yearly',
  FLEXIBLE: 'flexible',
}

const CIRCLE_WORD: Readonly<Record<DunbarCircle, string>> = {
  INNER: 'Inner (5)',
  CLOSE: 'Close (15)',
  ACTIVE: 'Active (50)',
  CASUAL: 'Casual (150)',
  ACQUAINTANCE: 'Acquaintances (500)',
}

/**
 * A contact's cadence and the rule behind it, as stored (the frequency in force is materialized, see
 * inherited-cadence.ts): its own frequency, else (`frequencyFromGroup`) the default of `groupName`,
 * else its circle's default, else yearly. FLEXIBLE, own or inherited, follows the circle. Pure.
 *
 * @param groupName the name of the group whose default applies (when `frequencyFromGroup`), if known.
 */
export function explainCadence(
  contact: CadenceInputs & { frequencyFromGroup: boolean },
  groupName: string | null,
): CadenceExplanation {
  const days = cadenceDays(contact)
  const every = `Every ${days} ${days === 1 ? 'day' : 'days'}`
  const circle = contact.dunbarCircle
  const circleRule = circle ? `the default of the circle ${CIRCLE_WORD[circle]}` : 'the default for contacts without a circle'
  const frequency = contact.frequencyPreference
  if (frequency === null) {
    return { days, frequency: null, source: circle ? 'CIRCLE' : 'DEFAULT', rule: `${every}, ${circleRule}` }
  }
  const source: CadenceSource = contact.frequencyFromGroup ? 'GROUP' : 'CONTACT'
  const origin = contact.frequencyFromGroup ? `from the group ${groupName ?? '(unknown)'}'s default` : "the contact's own frequency"
  const what = frequency === 'FLEXIBLE' ? `(flexible: ${circleRule})` : `(${FREQUENCY_WORD[frequency]})`
  return { days, frequency, source, rule: `${every} ${what}, ${origin}` }
}

/** `'a'` as a SQL string literal (the values below are our own constants; quotes doubled all the same). */
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`

/**
 * The SQL expression of {@link cadenceDays} over the column expressions `frequency` and `circle`, built
 * from the constants above so the database and this module cannot disagree (inherited-cadence.ts).
 */
export function cadenceDaysSql(frequency: string, circle: string): string {
  const byFrequency = Object.entries(FREQUENCY_DAYS).map(([name, days]) => `WHEN ${literal(name)} THEN ${days}`).join(' ')
  const byCircle = Object.entries(CIRCLE_DEFAULT_DAYS).map(([name, days]) => `WHEN ${literal(name)} THEN ${days}`).join(' ')
  return `COALESCE(CASE ${frequency}::text ${byFrequency} END, CASE ${circle}::text ${byCircle} END, ${UNASSIGNED_DEFAULT_DAYS})`
}
