/**
 * Everything that happens to the suggestions page, as one pure reducer: the
 * subscription's events (the SuggestionEvent union), the connection's life, and
 * the optimistic accept / dismiss / snooze actions with their outcome.
 *
 * The list on screen only grows while a walk streams (append-only: no layout
 * shift) and is replaced whole by SuggestionsUpdated or by a fresh walk after a
 * reconnect, never emptied first.
 */
import type { ResultOf } from '../graphql.ts'
import type { SuggestionFields, SuggestionsSubscription } from '../api/documents.ts'

export type Suggestion = ResultOf<typeof SuggestionFields>
export type SuggestionEvent = ResultOf<typeof SuggestionsSubscription>['suggestions']
export type SuggestionAction = 'accept' | 'dismiss' | 'snooze'

/** A user action on one suggestion: pending until the server answers, then done. */
export interface Override {
  action: SuggestionAction
  /** The suggestion as last known: the server's answer once done. */
  suggestion: Suggestion
  state: 'pending' | 'done'
  /** Snooze: until when (ISO). */
  until?: string
}

export type Connection =
  /** Subscribing for the first time. */
  | 'connecting'
  /** Events arrive. */
  | 'live'
  /** The stream broke; a new attempt is scheduled. */
  | 'dropped'
  /** A new attempt is under way (resuming from the cursor, or a fresh walk). */
  | 'reconnecting'
  /** The token was rejected: the app goes to the sign-in screen. */
  | 'unauthorized'

export interface SuggestionsState {
  connection: Connection
  /** streaming: batches still come; complete: the list is whole (live updates may follow). */
  phase: 'streaming' | 'complete'
  /** The ranked list on screen, in the server's order. */
  items: Suggestion[]
  /** A fresh walk after a reconnect in the live phase: built here, shown when complete. */
  refresh: Suggestion[] | null
  /** Contacts read so far by the walk. */
  scanned: number
  throttled: { reason: string } | null
  summary: { total: number; scanned: number; durationMs: number } | null
  /** User actions by suggestion id. */
  overrides: Record<string, Override>
  /** The last failed action's message. */
  message: string | null
  /** Why the stream broke, while it is down. */
  dropReason: string | null
  /** When the next attempt is due after a drop (ms from the drop). */
  retryInMs: number | null
  /** What the aria-live region says. */
  announcement: string
}

export type SuggestionsEvent =
  /** A subscription starts: the first one, a resumed one (with the cursor), or a fresh walk. */
  | { type: 'subscribed'; resumeFrom: string | null }
  | { type: 'received'; event: SuggestionEvent }
  | { type: 'dropped'; message: string; retryInMs: number }
  | { type: 'unauthorized' }
  | { type: 'actionStarted'; action: SuggestionAction; suggestion: Suggestion; until?: string }
  | { type: 'actionSucceeded'; suggestion: Suggestion }
  | { type: 'actionFailed'; id: string; message: string }
  | { type: 'messageDismissed' }

export const initialSuggestionsState: SuggestionsState = {
  connection: 'connecting',
  phase: 'streaming',
  items: [],
  refresh: null,
  scanned: 0,
  throttled: null,
  summary: null,
  overrides: {},
  message: null,
  dropReason: null,
  retryInMs: null,
  announcement: '',
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function receive(state: SuggestionsState, event: SuggestionEvent): SuggestionsState {
  const live = { ...state, connection: 'live' as const, retryInMs: null, dropReason: null }
  switch (event.__typename) {
    case 'SuggestionBatch': {
      const base = { ...live, scanned: event.scanned, throttled: null }
      if (state.refresh) return { ...base, refresh: [...state.refresh, ...event.suggestions] }
      if (event.suggestions.length === 0) return base
      return {
        ...base,
        items: [...state.items, ...event.suggestions],
        announcement: `${plural(event.suggestions.length, 'new suggestion')}, ${state.items.length + event.suggestions.length} in all`,
      }
    }
    case 'SuggestionsThrottled':
      return { ...live, throttled: { reason: event.reason } }
    case 'SuggestionsComplete': {
      const summary = { total: event.total, scanned: event.scanned, durationMs: event.durationMs }
      const items = state.refresh ?? state.items
      return {
        ...live,
        phase: 'complete',
        items,
        refresh: null,
        throttled: null,
        scanned: event.scanned,
        summary,
        announcement: state.refresh ? `Suggestions refreshed: ${items.length}` : `All ${plural(event.total, 'suggestion')} loaded`,
      }
    }
    case 'SuggestionsUpdated':
      return { ...live, items: event.suggestions, announcement: `Suggestions updated: ${event.suggestions.length}` }
  }
}

export function suggestionsReducer(state: SuggestionsState, event: SuggestionsEvent): SuggestionsState {
  switch (event.type) {
    case 'subscribed': {
      const connection = state.connection === 'connecting' ? 'connecting' : 'reconnecting'
      if (event.resumeFrom !== null) return { ...state, connection, retryInMs: null }
      // A fresh walk: before any list was whole there is nothing to keep; after, keep
      // showing the old list until the new one is complete.
      if (state.phase === 'complete') return { ...state, connection, retryInMs: null, refresh: [] }
      return { ...state, connection, retryInMs: null, items: [], scanned: 0 }
    }
    case 'received':
      return receive(state, event.event)
    case 'dropped':
      return { ...state, connection: 'dropped', dropReason: event.message, retryInMs: event.retryInMs }
    case 'unauthorized':
      return { ...state, connection: 'unauthorized' }
    case 'actionStarted': {
      const { suggestion, action, until } = event
      const override: Override = { action, suggestion, state: 'pending', ...(until ? { until } : {}) }
      return { ...state, overrides: { ...state.overrides, [suggestion.id]: override }, message: null }
    }
    case 'actionSucceeded': {
      const current = state.overrides[event.suggestion.id]
      if (!current) return state
      return { ...state, overrides: { ...state.overrides, [event.suggestion.id]: { ...current, suggestion: event.suggestion, state: 'done' } } }
    }
    case 'actionFailed': {
      const { [event.id]: failed, ...overrides } = state.overrides
      if (!failed) return state
      return { ...state, overrides, message: event.message }
    }
    case 'messageDismissed':
      return { ...state, message: null }
  }
}

/** The list to show: the ranked items without those the user acted on. */
export function visibleSuggestions(state: SuggestionsState): Suggestion[] {
  return state.items.filter((item) => !state.overrides[item.id])
}

/** Suggestions accepted in this session (pending or confirmed), in the order accepted. */
export function plannedSuggestions(state: SuggestionsState): Override[] {
  return Object.values(state.overrides).filter((override) => override.action === 'accept')
}
