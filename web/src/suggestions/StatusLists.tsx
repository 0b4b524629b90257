/**
 * The suggestions whose status is in force, from the API (so they survive a reload):
 * Planned (ACCEPTED) and Hidden (DISMISSED, SNOOZED, with when each ends and a Restore button).
 */
import { useCallback, useMemo, useRef, useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { RestoreSuggestion, SuggestionsByStatusQuery } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { formatDateTime, formatDay } from '../format.ts'
import { useEscapeKey } from '../keyboard.ts'
import { Link, contactPath } from '../router.tsx'
import type { ActedSuggestion, Override, Suggestion } from './reducer.ts'

// The lists hold Suggestions: any mutation returning one (accept, dismiss, snooze, undo, restore)
// makes them ask again, even while empty (an empty answer names no type for urql's cache to match).
const statusContext = { additionalTypenames: ['Suggestion'] }
const PLANNED = ['ACCEPTED'] as const
const HIDDEN = ['DISMISSED', 'SNOOZED'] as const

/** Suggestions with one of `statuses`, latest change first (the first 50); paused until `start`. */
function useStatusList(statuses: readonly ('ACCEPTED' | 'DISMISSED' | 'SNOOZED')[], start: boolean) {
  const variables = useMemo(() => ({ statuses: [...statuses], first: 50 }), [statuses])
  const [{ data, error }] = useQuery({ query: SuggestionsByStatusQuery, variables, pause: !start, context: useMemo(() => statusContext, []) })
  const connection = data?.suggestionsByStatus
  return { nodes: connection?.edges.map((edge) => edge.node) ?? [], total: connection?.totalCount ?? 0, loaded: connection !== undefined, error: error ? apiErrorOf(error).message : null }
}

/** How a hidden suggestion's status reads: "Dismissed — hidden until Mon 7 Dec", "Snoozed until Mon 7 Dec". */
export function hiddenStatus(suggestion: Pick<ActedSuggestion, 'status' | 'statusEndsAt'>, userZone: string | null): string {
  const until = suggestion.statusEndsAt ? formatDay(suggestion.statusEndsAt, userZone) : null
  if (suggestion.status === 'SNOOZED') return until ? `Snoozed until ${until}` : 'Snoozed'
  return until ? `Dismissed — hidden until ${until}` : 'Dismissed'
}

export interface PlannedProps {
  /** Accepts made in this tab (pending or done): shown at once, before the list asks again. */
  accepted: Override[]
  userZone: string | null
  start: boolean
}

/** Planned: this tab's accepts first (while saving), then what the API has as ACCEPTED. */
export function Planned({ accepted, userZone, start }: PlannedProps) {
  const { nodes, error } = useStatusList(PLANNED, start)
  const mine = new Set(accepted.map((override) => override.suggestion.contact.id))
  const entries: { suggestion: Suggestion; status: string }[] = [
    ...accepted.map(({ suggestion, state }) => ({ suggestion, status: state === 'pending' ? 'Saving…' : state === 'undoing' ? 'Undoing…' : 'Planned' })),
    ...nodes.filter((node) => !mine.has(node.contact.id)).map((suggestion) => ({ suggestion, status: 'Planned' })),
  ]
  if (entries.length === 0 && !error) return null
  return (
    <section aria-labelledby="planned-title" className="planned">
      <h2 id="planned-title">Planned</h2>
      {error && <p className="error">Could not load the planned suggestions: {error}</p>}
      <ul>
        {entries.map(({ suggestion, status }) => (
          <li key={suggestion.contact.id} data-testid="planned" data-contact-id={suggestion.contact.id}>
            <Link className="name" to={contactPath(suggestion.contact.id)}>
              {suggestion.contact.name}
            </Link>{' '}
            {suggestion.slot && userZone && <span>{formatDateTime(suggestion.slot.start, userZone)}</span>}{' '}
            <span className="status" data-testid="status">
              {status}
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}

export interface HiddenProps {
  userZone: string | null
  start: boolean
  /** A suggestion was restored (PENDING again): the live list takes it back. */
  onRestored: (suggestion: ActedSuggestion) => void
}

/** Hidden: dismissed and snoozed contacts, behind a toggle; each can be restored. */
export function Hidden({ userZone, start, onRestored }: HiddenProps) {
  const { nodes, total, loaded, error } = useStatusList(HIDDEN, start)
  const [open, setOpen] = useState(false)
  const [restoring, setRestoring] = useState<string | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [, restore] = useMutation(RestoreSuggestion)
  const toggle = useRef<HTMLButtonElement>(null)
  const list = useRef<HTMLUListElement>(null)
  const close = useCallback(() => {
    setOpen(false)
    toggle.current?.focus()
  }, [])
  useEscapeKey(open, close)

  const restoreOne = async (suggestion: ActedSuggestion) => {
    setRestoring(suggestion.id)
    setFailure(null)
    // The entry leaves the list: keep keyboard users in it, on the next entry (or the one before, or the toggle).
    const entry = [...(list.current?.children ?? [])].find((element) => (element as HTMLElement).dataset.suggestionId === suggestion.id)
    const neighbour = entry?.nextElementSibling ?? entry?.previousElementSibling
    const result = await restore({ id: suggestion.id })
    setRestoring(null)
    const restored = result.data?.restoreSuggestion
    if (!restored) {
      setFailure(`Could not restore ${suggestion.contact.name}: ${result.error ? apiErrorOf(result.error).message : 'unknown error'}`)
      return
    }
    ;(neighbour?.querySelector('button') ?? toggle.current)?.focus()
    onRestored(restored)
  }

  return (
    <section aria-labelledby="hidden-title" className="hidden-list">
      <h2 id="hidden-title" className="visually-hidden">
        Hidden
      </h2>
      {/* Nothing to show: no button that opens an empty panel (while open, it stays: the panel closes, focus has a place). */}
      {loaded && total === 0 && !open ? (
        <p className="nothing-hidden" data-testid="nothing-hidden">
          Nothing hidden
        </p>
      ) : (
        <button ref={toggle} type="button" aria-expanded={open} aria-controls="hidden-panel" onClick={() => setOpen(!open)} disabled={!start}>
          {open ? 'Hide hidden' : 'Show hidden'} ({loaded ? total : '…'})
        </button>
      )}
      {error && <p className="error">Could not load the hidden suggestions: {error}</p>}
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      <div id="hidden-panel" hidden={!open}>
        {open && nodes.length === 0 && <p>Nothing hidden: dismissed and snoozed contacts appear here.</p>}
        {open && (
          <ul ref={list}>
            {nodes.map((suggestion) => (
              <li key={suggestion.id} data-testid="hidden" data-suggestion-id={suggestion.id} data-contact-id={suggestion.contact.id}>
                <Link className="name" to={contactPath(suggestion.contact.id)}>
                  {suggestion.contact.name}
                </Link>{' '}
                <span className="status">{hiddenStatus(suggestion, userZone)}</span>{' '}
                <button type="button" onClick={() => void restoreOne(suggestion)} disabled={restoring === suggestion.id} aria-label={`Restore ${suggestion.contact.name}`}>
                  {restoring === suggestion.id ? 'Restoring…' : 'Restore'}
                </button>
              </li>
            ))}
          </ul>
        )}
        {open && total > nodes.length && (
          <p>
            Showing the latest {nodes.length} of {total}.
          </p>
        )}
      </div>
    </section>
  )
}
