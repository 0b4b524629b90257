import { memo, useRef, useState, type FormEvent } from 'react'
import { Link, contactPath } from '../router.tsx'
import { circleLabel, describeSlot } from '../format.ts'
import type { Suggestion, SuggestionAction } from './reducer.ts'

export interface RowProps {
  suggestion: Suggestion
  rank: number
  /** The user's IANA zone; null while not yet known (the slot waits for it: no wrong time shown). */
  userZone: string | null
  onAction: (suggestion: Suggestion, action: SuggestionAction, until?: string) => void
}

/** The day `days` after today, as YYYY-MM-DD in the browser's zone (calendar days, so DST changes do not shift it). */
function dayFromToday(days: number, now = new Date()): string {
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days)
  return `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, '0')}-${String(next.getDate()).padStart(2, '0')}`
}

function SnoozeForm({ name, onSnooze, onCancel }: { name: string; onSnooze: (until: string) => void; onCancel: () => void }) {
  const [day, setDay] = useState(() => dayFromToday(7))
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const [y, m, d] = day.split('-').map(Number)
    if (!y || !m || !d) return
    onSnooze(new Date(y, m - 1, d).toISOString())
  }
  return (
    <form className="snooze" onSubmit={submit} aria-label={`Snooze ${name}`}>
      <label>
        Until <input type="date" required min={dayFromToday(1)} value={day} onChange={(event) => setDay(event.target.value)} autoFocus />
      </label>
      <button type="submit">Snooze</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  )
}

/** One ranked suggestion: who, why, when (in both zones), and what to do about it. */
export const SuggestionRow = memo(function SuggestionRow({ suggestion, rank, userZone, onAction }: RowProps) {
  const [snoozing, setSnoozing] = useState(false)
  const row = useRef<HTMLLIElement>(null)
  const { contact, slot } = suggestion
  // The row leaves the list at once: keep keyboard users in place, on the next row (or the one before).
  const act = (action: SuggestionAction, until?: string) => {
    const neighbour = row.current?.nextElementSibling ?? row.current?.previousElementSibling
    neighbour?.querySelector<HTMLButtonElement>('.actions button')?.focus()
    onAction(suggestion, action, until)
  }
  const when = slot ? describeSlot(slot, userZone, contact.timezone) : null
  return (
    <li ref={row} className="suggestion" data-testid="suggestion" data-contact-id={contact.id}>
      <span className="rank" aria-label={`Rank ${rank}`}>
        {rank}
      </span>
      <div className="who">
        <Link className="name" to={contactPath(contact.id)}>
          {contact.name}
        </Link>
        <span className="circle">{circleLabel(contact.dunbarCircle)}</span>
      </div>
      <p className="reason">{suggestion.reason}</p>
      <p className="slot" title={when ? [when.yours, when.theirs].filter(Boolean).join(' · ') : undefined}>
        {when ? (
          <>
            <span>{userZone ? when.yours : '…'}</span>
            {when.theirs && (
              <>
                <span className="sep"> · </span>
                <span className="theirs">{when.theirs}</span>
              </>
            )}
          </>
        ) : (
          'No free slot in the coming days'
        )}
      </p>
      {snoozing ? (
        <SnoozeForm name={contact.name} onSnooze={(until) => act('snooze', until)} onCancel={() => setSnoozing(false)} />
      ) : (
        <div className="actions">
          <button type="button" onClick={() => act('accept')} aria-label={`Accept ${contact.name}`}>
            Accept
          </button>
          <button type="button" onClick={() => act('dismiss')} aria-label={`Dismiss ${contact.name}`}>
            Dismiss
          </button>
          <button type="button" onClick={() => setSnoozing(true)} aria-label={`Snooze ${contact.name}`}>
            Snooze…
          </button>
        </div>
      )}
    </li>
  )
})
