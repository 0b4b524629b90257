/** The human reason shown with a suggestion, e.g. "Monthly · last talked 47 days ago". Pure. */
import { DAY_MS } from '../time.ts'
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'

const FREQUENCY_LABEL: Record<FrequencyPreference, string> = {
  WEEKLY: 'Weekly',
  BIWEEKLY: 'Every two weeks',
  MONTHLY: 'Monthly',
  QUARTERLY: 'Quarterly',
  BIANNUAL: 'Twice a year',
  YEARLY: 'Yearly',
  FLEXIBLE: 'Flexible',
}

const CIRCLE_LABEL: Record<DunbarCircle, string> = {
  INNER: 'Inner circle',
  CLOSE: 'Close friend',
  ACTIVE: 'Active friend',
  CASUAL: 'Casual friend',
  ACQUAINTANCE: 'Acquaintance',
}

function days(count: number): string {
  return count === 1 ? '1 day' : `${count} days`
}

export interface ReasonInputs {
  dunbarCircle: DunbarCircle | null
  frequencyPreference: FrequencyPreference | null
  lastContactDate: Date | null
  nextDueAt: Date
}

export function describeReason(contact: ReasonInputs, now: Date): string {
  const cadence =
    contact.frequencyPreference && contact.frequencyPreference !== 'FLEXIBLE'
      ? FREQUENCY_LABEL[contact.frequencyPreference]
      : contact.dunbarCircle
        ? CIRCLE_LABEL[contact.dunbarCircle]
        : 'Keep in touch'
  const parts = [cadence]
  if (contact.lastContactDate === null) {
    parts.push('never contacted')
  } else {
    const since = Math.max(0, Math.floor((now.getTime() - contact.lastContactDate.getTime()) / DAY_MS))
    parts.push(since === 0 ? 'talked today' : `last talked ${days(since)} ago`)
  }
  const overdue = Math.floor((now.getTime() - contact.nextDueAt.getTime()) / DAY_MS)
  if (overdue > 0) parts.push(`${days(overdue)} overdue`)
  else if (overdue < 0) parts.push(`due in ${days(-overdue)}`)
  else parts.push('due today')
  return parts.join(' · ')
}
