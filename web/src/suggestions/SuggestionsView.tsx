/** The home page: the live ranked suggestions, with accept / dismiss / snooze. */
import { startTransition, useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState } from 'react'
import { useMutation } from 'urql'
import { AcceptSuggestion, DismissSuggestion, SnoozeSuggestion } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useApiClient } from '../api/provider.tsx'
import { formatDateTime } from '../format.ts'
import { SuggestionRow } from './SuggestionRow.tsx'
import { startSuggestionsStream } from './stream.ts'
import {
  initialSuggestionsState,
  plannedSuggestions,
  suggestionsReducer,
  visibleSuggestions,
  type Suggestion,
  type SuggestionAction,
  type SuggestionsEvent,
  type SuggestionsState,
} from './reducer.ts'

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
}

function ConnectionStatus({ state }: { state: SuggestionsState }) {
  switch (state.connection) {
    case 'connecting':
      return <span className="badge">Connecting…</span>
    case 'live':
      return <span className="badge ok">Live</span>
    case 'reconnecting':
      return <span className="badge warn">Reconnecting…</span>
    case 'dropped':
      return (
        <span className="badge warn" role="alert">
          Connection lost{state.dropReason ? `: ${state.dropReason}` : ''} Retrying in {Math.ceil((state.retryInMs ?? 0) / 1000)} s.
        </span>
      )
    case 'unauthorized':
      return <span className="badge error">Signed out</span>
  }
}

function Progress({ state, rendering }: { state: SuggestionsState; rendering: boolean }) {
  if (state.refresh) return <span>Refreshing… {state.refresh.length} so far</span>
  if (state.phase === 'streaming') return <span>Looking through your contacts… {state.scanned} scanned, {state.items.length} found</span>
  if (!state.summary) return null
  if (rendering) return <span>Showing {state.summary.total} suggestions…</span>
  const { total, scanned, durationMs } = state.summary
  return (
    <span data-testid="summary">
      {total} suggestions from {scanned} contacts in {(durationMs / 1000).toFixed(1)} s
    </span>
  )
}

const statusLabel: Record<SuggestionAction, string> = { accept: 'Planned', dismiss: 'Dismissed', snooze: 'Snoozed' }

function Planned({ state, userZone }: { state: SuggestionsState; userZone: string | null }) {
  const planned = plannedSuggestions(state)
  if (planned.length === 0) return null
  return (
    <section aria-labelledby="planned-title" className="planned">
      <h2 id="planned-title">Planned</h2>
      <ul>
        {planned.map(({ suggestion, state: progress }) => (
          <li key={suggestion.id} data-testid="planned" data-contact-id={suggestion.contact.id}>
            <span className="name">{suggestion.contact.name}</span>{' '}
            {suggestion.slot && userZone && <span>{formatDateTime(suggestion.slot.start, userZone)}</span>}{' '}
            <span className="status" data-testid="status">
              {progress === 'pending' ? 'Saving…' : suggestion.status === 'ACCEPTED' ? statusLabel.accept : suggestion.status}
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
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

export function SuggestionsView({ userZone, maxSuggestions, batchSize, onUnauthorized, backoff, onFirstEvent }: SuggestionsViewProps) {
  const client = useApiClient()
  const [, accept] = useMutation(AcceptSuggestion)
  const [, dismiss] = useMutation(DismissSuggestion)
  const [, snooze] = useMutation(SnoozeSuggestion)
  const [state, dispatch] = useReducer(suggestionsReducer, initialSuggestionsState)
  const callbacks = useRef({ onUnauthorized, onFirstEvent })
  callbacks.current = { onUnauthorized, onFirstEvent }

  useEffect(() => {
    performance.mark('suggestions:subscribe')
    let first = true
    return startSuggestionsStream({
      client,
      ...(maxSuggestions ? { maxSuggestions } : {}),
      ...(batchSize ? { batchSize } : {}),
      ...(backoff ? { backoff } : {}),
      dispatch: (event: SuggestionsEvent) => {
        if (event.type !== 'received') return dispatch(event)
        // Rendering a batch can wait for input: the page stays responsive while hundreds stream.
        startTransition(() => dispatch(event))
        if (first) {
          first = false
          callbacks.current.onFirstEvent?.()
        }
      },
      onUnauthorized: () => callbacks.current.onUnauthorized(),
    })
  }, [client, maxSuggestions, batchSize, backoff])

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
  return (
    <section aria-labelledby="suggestions-title" aria-busy={state.phase === 'streaming' || rendering}>
      <h1 id="suggestions-title">Reach out</h1>
      <div className="status-bar">
        <ConnectionStatus state={state} /> <Progress state={state} rendering={rendering} />
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
      <Planned state={state} userZone={userZone} />
      {visible.length === 0 && state.phase === 'complete' && !state.refresh ? (
        <p>Nobody to reach out to right now.</p>
      ) : (
        <ol className="suggestions" aria-label="Suggestions">
          {visible.slice(0, shown).map((suggestion) => (
            <SuggestionRow key={suggestion.id} suggestion={suggestion} rank={ranks.get(suggestion.id) ?? 0} userZone={userZone} onAction={act} />
          ))}
        </ol>
      )}
    </section>
  )
}
