import { memo, useCallback, useLayoutEffect, useRef, useState, type FormEvent } from 'react'
import { Link, contactPath } from '../router.tsx'
import { circleLabel, describeSlot, formatDay } from '../format.ts'
import { useEscapeKey } from '../keyboard.ts'
import type { Suggestion, SuggestionAction } from './reducer.ts'

export interface RowProps {
  suggestion: Suggestion
  rank: number
  /** The user's IANA zone; null while not yet known (the slot waits for it: no wrong time shown). */
  userZone: string | null
  onAction: (suggestion: Suggestion, action: SuggestionAction, until?: string) => void
}

/** The day `days` after today, as YYYY-MM-DD in the browser's zone (calendar days, so DST changes do not shift it). */
export function dayFromToday(days: number, now = new Date()): string {
  return isoDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() + days))
}

function isoDay(day: Date): string {
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`
}

/** The same day next month (the month's last day when it has fewer days), as YYYY-MM-DD. */
export function dayNextMonth(now = new Date()): string {
  const last = new Date(now.getFullYear(), now.getMonth() + 2, 0).getDate()
  return isoDay(new Date(now.getFullYear(), now.getMonth() + 1, Math.min(now.getDate(), last)))
}

/** The start of a YYYY-MM-DD day in the browser's zone, as an ISO instant (null when not a date). */
export function startOfDay(day: string): string | null {
  const [y, m, d] = day.split('-').map(Number)
  if (!y || !m || !d) return null
  return new Date(y, m - 1, d).toISOString()
}

/** Snooze presets: what the button says, and the day it snoozes until. */
export function snoozePresets(now = new Date()): { label: string; day: string }[] {
  return [
    { label: 'Tomorrow', day: dayFromToday(1, now) },
    { label: 'Next week', day: dayFromToday(7, now) },
    { label: 'Next month', day: dayNextMonth(now) },
  ]
}

function SnoozeForm({ name, onSnooze, onCancel }: { name: string; onSnooze: (until: string) => void; onCancel: () => void }) {
  const [day, setDay] = useState(() => dayFromToday(7))
  useEscapeKey(true, onCancel)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const until = startOfDay(day)
    if (until) onSnooze(until)
  }
  const presets = snoozePresets()
  return (
    <form className="snooze" onSubmit={submit} aria-label={`Snooze ${name}`}>
      {presets.map((preset, index) => {
        const until = startOfDay(preset.day)!
        return (
          <button key={preset.label} type="button" onClick={() => onSnooze(until)} aria-label={`${preset.label} (${formatDay(until)})`} autoFocus={index === 0}>
            {preset.label}
          </button>
        )
      })}
      <label>
        Until <input type="date" required min={dayFromToday(1)} value={day} onChange={(event) => setDay(event.target.value)} />
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
  const snoozeButton = useRef<HTMLButtonElement>(null)
  // Escape or Cancel: the form closes and focus goes back to the button that opened it.
  const refocus = useRef(false)
  const closeSnooze = useCallback(() => {
    refocus.current = true
    setSnoozing(false)
  }, [])
  useLayoutEffect(() => {
    if (snoozing || !refocus.current) return
    refocus.current = false
    snoozeButton.current?.focus()
  }, [snoozing])
  const { contact, slot } = suggestion
  // The row leaves the list at once: keep keyboard users in place, on the next row (or the one before).
  const act = (action: SuggestionAction, until?: string) => {
    const neighbour = row.current?.nextElementSibling ?? row.current?.previousElementSibling
    neighbour?.querySelector<HTMLButtonElement>('.actions button')?.focus()
    onAction(suggestion, action, until)
  }
  const when = slot ? describeSlot(slot, userZone, contact.timezone) : null
  return (
    <li ref={row} className={snoozing ? 'suggestion snoozing' : 'suggestion'} data-testid="suggestion" data-contact-id={contact.id}>
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
        <SnoozeForm name={contact.name} onSnooze={(until) => act('snooze', until)} onCancel={closeSnooze} />
      ) : (
        <div className="actions">
          <button type="button" onClick={() => act('accept')} aria-label={`Accept ${contact.name}`} title="Plan it: it moves to Planned">
            Accept
          </button>
          <button type="button" onClick={() => act('dismiss')} aria-label={`Dismiss ${contact.name}`} title="Hide it for a while (you can undo or restore it)">
            Dismiss
          </button>
          <button ref={snoozeButton} type="button" onClick={() => setSnoozing(true)} aria-label={`Snooze ${contact.name}`} title="Hide it until a day you choose">
            Snooze…
          </button>
        </div>
      )}
    </li>
  )
})
