/**
 * The home page: the live ranked suggestions (one stream shared by the browser's tabs),
 * with accept / dismiss / snooze, an Undo for each, and the Planned and Hidden lists.
 */
import { startTransition, type FocusEvent, useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState } from 'react'
import { useMutation } from 'urql'
import { AcceptSuggestion, DismissSuggestion, SnoozeSuggestion, UndoSuggestionAction } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useApiClient } from '../api/provider.tsx'
import { formatAgo, formatDateTime, formatDay, formatDays } from '../format.ts'
import { Link } from '../router.tsx'
import { SECOND_MS } from '../time.ts'
import { SuggestionRow } from './SuggestionRow.tsx'
import { startSharedSuggestionsStream, type LockManagerLike, type ChannelLike, type StreamRole } from './shared-stream.ts'
import { Hidden, Planned } from './StatusLists.tsx'
import {
  initialSuggestionsState,
  plannedSuggestions,
  suggestionsReducer,
  visibleSuggestions,
  type ActedSuggestion,
  type Override,
  type Suggestion,
  type SuggestionAction,
  type SuggestionsEvent,
  type SuggestionsState,
} from './reducer.ts'
import './suggestions.css'

/** Under an `ApiProvider`: the stream through its client, the actions as urql mutations. */
export interface SuggestionsViewProps {
  /** The user's IANA zone (me.timezone); null until known. */
  userZone: string | null
  maxSuggestions?: number
  /** Contacts per page of the walk. */
  batchSize?: number
  onUnauthorized: () => void
  /** Delay before reconnect attempt n (tests shorten it). */
  backoff?: (attempt: number) => number
  /** Called once, when the stream's first event arrives. */
  onFirstEvent?: () => void
  /** Tab sharing (tests pass fakes; default `navigator.locks` and BroadcastChannel, null: no sharing). */
  locks?: LockManagerLike | null
  openChannel?: ((name: string) => ChannelLike) | null
}

/** How long the Undo stays offered after an action is done. */
export const UNDO_MS = 8_000
/** Skeleton rows until the first batch: about a screen, each of a real row's height. */
export const SKELETON_ROWS = 8

/** What the stream says when the socket went away (no reason to add). */
const CONNECTION_LOST = 'The connection to the server was lost.'

/** The seconds left until the next attempt, counting down each second. */
function RetryCountdown({ retryAt, retryInMs }: { retryAt: number | null; retryInMs: number | null }) {
  const now = useNow(SECOND_MS)
  const left = retryAt !== null ? retryAt - now : (retryInMs ?? 0)
  return <span data-testid="retry-countdown">Retrying in {Math.max(0, Math.ceil(left / SECOND_MS))} s</span>
}

/** The connection in words; dropped: "Connection lost." with the countdown and, in the tab that runs the stream, Retry now. */
function ConnectionStatus({ state, onRetryNow }: { state: SuggestionsState; onRetryNow: (() => void) | null }) {
  switch (state.connection) {
    case 'connecting':
      return <span className="badge">Connecting…</span>
    case 'live':
      return <span className="badge ok">Live</span>
    case 'reconnecting':
      return <span className="badge warn">Reconnecting…</span>
    case 'dropped':
      return (
        <>
          <span className="badge warn" role="alert">
            Connection lost{state.dropReason && state.dropReason !== CONNECTION_LOST ? ` (${state.dropReason})` : ''}.
          </span>{' '}
          <RetryCountdown retryAt={state.retryAt} retryInMs={state.retryInMs} />
          {onRetryNow && (
            <>
              {' '}
              <button type="button" onClick={onRetryNow}>
                Retry now
              </button>
            </>
          )}
        </>
      )
    case 'unauthorized':
      return <span className="badge error">Signed out</span>
    case 'refused':
      return (
        <span className="badge error" role="alert">
          {state.dropReason} Reload the page to try again.
        </span>
      )
  }
}

/** Re-renders every `ms` (for "Updated 2 min ago"). */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}

/** What is happening, in words: connected and reading N contacts, refreshing, or how fresh the list is. */
function Progress({ state, rendering }: { state: SuggestionsState; rendering: boolean }) {
  const now = useNow(30_000)
  if (state.connection === 'refused' || state.connection === 'unauthorized') return null
  // Offline, a walk makes no progress: say nothing about it (the list stays on screen).
  if (state.connection !== 'live' && (state.refresh || state.phase === 'streaming')) return null
  if (state.refresh) return <span data-testid="progress">Refreshing… {state.refresh.length} so far</span>
  if (state.phase === 'streaming') {
    return (
      <span data-testid="progress">
        Connected — reading your contacts ({state.scanned} read, {state.items.length} found)
      </span>
    )
  }
  if (!state.summary) return null
  if (rendering) return <span data-testid="progress">Showing {state.summary.total} suggestions…</span>
  const { total, scanned, durationMs } = state.summary
  return (
    <>
      <span data-testid="progress">Updated {formatAgo(Math.max(0, now - (state.updatedAt ?? now)))}</span>
      {' · '}
      <span data-testid="summary">
        {total} suggestions from {scanned} contacts in {(durationMs / SECOND_MS).toFixed(1)} s
      </span>
    </>
  )
}

/** What an action did (or is doing), in words: the toast's text. */
export function describeAction(override: Override, userZone: string | null): string {
  const { action, suggestion, state, until } = override
  const name = suggestion.contact.name
  if (state === 'undoing') return `Undoing for ${name}…`
  if (state === 'pending') return action === 'accept' ? `Planning ${name}…` : action === 'dismiss' ? `Dismissing ${name}…` : `Snoozing ${name}…`
  const acted = suggestion as Partial<ActedSuggestion>
  switch (action) {
    case 'accept':
      return suggestion.slot && userZone ? `Planned ${name} for ${formatDateTime(suggestion.slot.start, userZone)}` : `Planned ${name}`
    case 'dismiss':
      return acted.statusEndsAt ? `Dismissed ${name} — hidden for ${formatDays(acted.statusSetAt ?? new Date().toISOString(), acted.statusEndsAt)}` : `Dismissed ${name}`
    case 'snooze': {
      const end = acted.statusEndsAt ?? until
      return end ? `Snoozed ${name} until ${formatDay(end, userZone)}` : `Snoozed ${name}`
    }
  }
}

/** Whether `target` takes typed text (there Ctrl+Z and "z" are the field's own). */
function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file', 'image'].includes(target.type)
}

/** Whether `event` is the undo shortcut: Ctrl+Z / Cmd+Z, or a bare "z", outside text fields. */
export function isUndoShortcut(event: KeyboardEvent): boolean {
  return event.key.toLowerCase() === 'z' && !event.altKey && !event.shiftKey && !isTextField(event.target)
}

/**
 * The latest action, what it did, and Undo for {@link UNDO_MS} once done: a polite live region at the bottom.
 * The time stops while the pointer is over it or focus is in it (and starts again when they leave).
 * Ctrl+Z (Cmd+Z), or "z" outside a text field, undoes from anywhere on the page while it shows.
 */
function UndoToast({ override, userZone, onUndo, onExpire }: { override: Override | null; userZone: string | null; onUndo: (id: string) => void; onExpire: (id: string) => void }) {
  const id = override?.suggestion.id ?? null
  const done = override?.state === 'done'
  const [hovered, setHovered] = useState(false)
  const [focused, setFocused] = useState(false)
  const held = hovered || focused
  useEffect(() => {
    if (!id || !done || held) return
    const timer = setTimeout(() => onExpire(id), UNDO_MS)
    return () => clearTimeout(timer)
  }, [id, done, held, onExpire])
  useEffect(() => {
    if (!id || !done) return
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || !isUndoShortcut(event)) return
      event.preventDefault()
      onUndo(id)
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [id, done, onUndo])
  return (
    // Always in the document (a live region announces what is put in it, not what appears with it); empty, it shows nothing.
    <div
      className={override ? 'undo-toast' : 'undo-toast idle'}
      role="status"
      data-testid="toast"
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={() => setFocused(false)}
    >
      {override && (
        <>
          <span>{describeAction(override, userZone)}</span>{' '}
          <button type="button" onClick={() => onUndo(override.suggestion.id)} disabled={!done} aria-keyshortcuts="Control+Z Meta+Z Z">
            Undo <kbd aria-hidden="true">(Ctrl+Z)</kbd>
          </button>
        </>
      )}
    </div>
  )
}

/** How long the Planned and Hidden lists wait for the walk to complete before they ask anyway. */
export const LISTS_DELAY_MS = 3_000

/** Whether the status lists may ask: once the walk is complete (they do not compete with it on the server), or after {@link LISTS_DELAY_MS}. */
function useListsStarted(complete: boolean): boolean {
  const [started, setStarted] = useState(false)
  if (complete && !started) setStarted(true)
  useEffect(() => {
    if (started) return
    const timer = setTimeout(() => setStarted(true), LISTS_DELAY_MS)
    return () => clearTimeout(timer)
  }, [started])
  return started
}

/** Placeholder rows of a real row's height, until the first batch: nothing moves when rows arrive. */
function SkeletonRows() {
  return Array.from({ length: SKELETON_ROWS }, (_, index) => (
    <li key={index} className="suggestion skeleton" aria-hidden="true" data-testid="skeleton">
      <span className="rank" />
      <span className="who bone" />
      <span className="reason bone" />
      <span className="slot bone" />
    </li>
  ))
}

/** Rows rendered at once, then added per animation frame: a batch of hundreds never becomes one long task. */
export const FIRST_ROWS = 25
export const ROWS_PER_FRAME = 25

/** How many of `total` rows to render: {@link FIRST_ROWS} at once, then more each frame (append-only, as the stream). */
function useRowsShown(total: number): number {
  const [shown, setShown] = useState(FIRST_ROWS)
  const count = Math.min(total, Math.max(shown, FIRST_ROWS))
  useEffect(() => {
    if (count >= total) return
    const frame = requestAnimationFrame(() => startTransition(() => setShown(count + ROWS_PER_FRAME)))
    return () => cancelAnimationFrame(frame)
  }, [count, total])
  return count
}

/** User Timing marks for the figures (bench/web.ts): first row and whole list on screen. */
function useScreenMarks(shown: number, complete: boolean) {
  const marked = useRef({ first: false, complete: false })
  useLayoutEffect(() => {
    if (!marked.current.first && shown > 0) {
      marked.current.first = true
      performance.mark('suggestions:first-on-screen')
    }
    if (!marked.current.complete && complete) {
      marked.current.complete = true
      performance.mark('suggestions:complete-on-screen')
    }
  }, [shown, complete])
}

export function SuggestionsView({ userZone, maxSuggestions, batchSize, onUnauthorized, backoff, onFirstEvent, locks, openChannel }: SuggestionsViewProps) {
  const client = useApiClient()
  const [, accept] = useMutation(AcceptSuggestion)
  const [, dismiss] = useMutation(DismissSuggestion)
  const [, snooze] = useMutation(SnoozeSuggestion)
  const [, undoAction] = useMutation(UndoSuggestionAction)
  const [state, dispatch] = useReducer(suggestionsReducer, initialSuggestionsState)
  const [role, setRole] = useState<StreamRole>('follower')
  // Set by the stream while it waits to reconnect (in the tab that runs it).
  const retryNow = useRef<(() => void) | null>(null)
  const callbacks = useRef({ onUnauthorized, onFirstEvent })
  callbacks.current = { onUnauthorized, onFirstEvent }
  const heading = useRef<HTMLHeadingElement>(null)
  const list = useRef<HTMLOListElement>(null)
  // After an undo or a restore, focus goes to the row that came back (its contact id).
  const [focusContact, setFocusContact] = useState<string | null>(null)

  useEffect(() => {
    performance.mark('suggestions:subscribe')
    let first = true
    return startSharedSuggestionsStream({
      client,
      scope: `${client.streamScope}:${maxSuggestions ?? ''}:${batchSize ?? ''}`,
      ...(maxSuggestions ? { maxSuggestions } : {}),
      ...(batchSize ? { batchSize } : {}),
      ...(backoff ? { backoff } : {}),
      ...(locks !== undefined ? { locks } : {}),
      ...(openChannel !== undefined ? { openChannel } : {}),
      onRole: setRole,
      retryNow,
      dispatch: (event: SuggestionsEvent) => {
        if (event.type !== 'received' && event.type !== 'snapshot') return dispatch(event)
        // Rendering a batch can wait for input: the page stays responsive while hundreds stream.
        startTransition(() => dispatch(event))
        if (first) {
          first = false
          callbacks.current.onFirstEvent?.()
        }
      },
      onUnauthorized: () => callbacks.current.onUnauthorized(),
    })
  }, [client, maxSuggestions, batchSize, backoff, locks, openChannel])

  const overrides = useRef(state.overrides)
  overrides.current = state.overrides
  const undo = useCallback(
    async (id: string) => {
      const override = overrides.current[id]
      if (override?.state !== 'done') return
      dispatch({ type: 'undoStarted', id })
      const result = await undoAction({ id })
      const suggestion = result.data?.undoSuggestionAction
      if (!suggestion) {
        const reason = result.error ? apiErrorOf(result.error).message : 'unknown error'
        return dispatch({ type: 'undoFailed', id, message: `Could not undo for ${override.suggestion.contact.name}: ${reason}` })
      }
      dispatch({ type: 'undoSucceeded', id, suggestion })
      setFocusContact(suggestion.status === 'PENDING' ? suggestion.contact.id : '')
    },
    [undoAction],
  )
  const reconnectNow = useCallback(() => retryNow.current?.(), [])
  const undoLater = useCallback((id: string) => void undo(id), [undo])
  const expire = useCallback((id: string) => dispatch({ type: 'toastExpired', id }), [])
  const restored = useCallback((suggestion: ActedSuggestion) => dispatch({ type: 'restored', suggestion }), [])

  const act = useCallback(
    async (suggestion: Suggestion, action: SuggestionAction, until?: string) => {
      dispatch({ type: 'actionStarted', action, suggestion, ...(until ? { until } : {}) })
      const id = suggestion.id
      const { data, error } =
        action === 'accept'
          ? await accept({ id }).then((result) => ({ data: result.data?.acceptSuggestion, error: result.error }))
          : action === 'dismiss'
            ? await dismiss({ id }).then((result) => ({ data: result.data?.dismissSuggestion, error: result.error }))
            : await snooze({ id, until: until ?? new Date().toISOString() }).then((result) => ({ data: result.data?.snoozeSuggestion, error: result.error }))
      if (data) return dispatch({ type: 'actionSucceeded', suggestion: data })
      const reason = error ? apiErrorOf(error).message : 'unknown error'
      dispatch({ type: 'actionFailed', id: suggestion.id, message: `Could not ${action} ${suggestion.contact.name}: ${reason}` })
    },
    [accept, dismiss, snooze],
  )

  const visible = visibleSuggestions(state)
  const shown = useRowsShown(visible.length)
  const rendering = shown < visible.length
  useScreenMarks(shown, state.phase === 'complete' && !state.refresh && !rendering)
  const ranks = new Map(state.items.map((item, index) => [item.id, index + 1]))
  const listsStarted = useListsStarted(state.phase === 'complete')
  const skeleton = state.items.length === 0 && state.phase === 'streaming' && (state.connection === 'connecting' || state.connection === 'live' || state.connection === 'reconnecting')

  // Where focus is in the list. A re-render that takes it away (the row left, or a re-ranking moved the row's node,
  // which drops focus in Chromium) puts it back: on the same control if still there, else on the row now at its index.
  const focusedRow = useRef<{ element: HTMLElement; index: number } | null>(null)
  const rememberFocus = useCallback((event: FocusEvent<HTMLOListElement>) => {
    const row = (event.target as HTMLElement).closest<HTMLElement>('li[data-contact-id]')
    focusedRow.current = row ? { element: event.target as HTMLElement, index: [...event.currentTarget.querySelectorAll('li[data-contact-id]')].indexOf(row) } : null
  }, [])
  const forgetFocus = useCallback((event: FocusEvent<HTMLOListElement>) => {
    // Focus went elsewhere (or the user clicked outside): not ours to put back. A removed or moved node keeps it.
    const to = event.relatedTarget as Node | null
    if (to ? !event.currentTarget.contains(to) : (event.target as Node).isConnected) focusedRow.current = null
  }, [])
  useLayoutEffect(() => {
    const last = focusedRow.current
    if (!last || (document.activeElement && document.activeElement !== document.body)) return
    focusedRow.current = null
    if (last.element.isConnected) return last.element.focus()
    const rows = [...(list.current?.querySelectorAll<HTMLElement>('li[data-contact-id]') ?? [])]
    ;(rows[Math.min(last.index, rows.length - 1)]?.querySelector<HTMLButtonElement>('.actions button') ?? heading.current)?.focus()
  })

  const toast = state.toast ? (state.overrides[state.toast] ?? null) : null

  useLayoutEffect(() => {
    if (focusContact === null) return
    setFocusContact(null)
    const row = [...(list.current?.children ?? [])].find((element) => (element as HTMLElement).dataset.contactId === focusContact)
    ;(row?.querySelector<HTMLButtonElement>('.actions button') ?? heading.current)?.focus()
  }, [focusContact])

  return (
    <section className={toast ? 'suggestions-page toast-shown' : 'suggestions-page'} aria-labelledby="suggestions-title" aria-busy={state.phase === 'streaming' || rendering} data-stream-role={role}>
      <h1 id="suggestions-title" ref={heading} tabIndex={-1}>
        Reach out
      </h1>
      <div className="status-bar">
        <ConnectionStatus state={state} onRetryNow={role === 'leader' ? reconnectNow : null} /> <Progress state={state} rendering={rendering} />
        {state.throttled && (
          <p className="notice" role="status" data-testid="throttled">
            The server is busy ({state.throttled.reason}): suggestions arrive more slowly.
          </p>
        )}
      </div>
      {state.message && (
        <p className="error" role="alert">
          {state.message}{' '}
          <button type="button" onClick={() => dispatch({ type: 'messageDismissed' })}>
            OK
          </button>
        </p>
      )}
      <p className="visually-hidden" aria-live="polite" data-testid="announcer">
        {state.announcement}
      </p>
      {visible.length === 0 && state.phase === 'complete' && !state.refresh ? (
        <div className="empty-state" data-testid="empty">
          <p>Nobody to reach out to right now.</p>
          {state.summary?.scanned === 0 && (
            <p>
              No contacts yet: <Link to="/contacts">Add a contact</Link> or <Link to="/import">Import contacts</Link> to get suggestions.
            </p>
          )}
        </div>
      ) : (
        <ol ref={list} className="suggestions" aria-label="Suggestions" onFocus={rememberFocus} onBlur={forgetFocus}>
          {skeleton && <SkeletonRows />}
          {visible.slice(0, shown).map((suggestion) => (
            // Keyed by contact: a re-ranking (SuggestionsUpdated, new suggestion ids) or an undo keeps each row, and its focus.
            <SuggestionRow key={suggestion.contact.id} suggestion={suggestion} rank={ranks.get(suggestion.id) ?? 0} userZone={userZone} onAction={act} />
          ))}
        </ol>
      )}
      <Planned accepted={plannedSuggestions(state)} userZone={userZone} start={listsStarted} />
      <Hidden userZone={userZone} start={listsStarted} onRestored={restored} />
      <UndoToast override={toast} userZone={userZone} onUndo={undoLater} onExpire={expire} />
    </section>
  )
}
