/**
 * Everything that happens to the suggestions page, as one pure reducer: the
 * subscription's events (the SuggestionEvent union), the connection's life (or the
 * leader tab's, whose state a follower tab takes as a snapshot), the optimistic
 * accept / dismiss / snooze actions with their outcome, their undo, and restores.
 *
 * The list on screen only grows while a walk streams (append-only: no layout
 * shift) and is replaced whole by SuggestionsUpdated or by a fresh walk after a
 * reconnect, never emptied first.
 */
import type { ResultOf } from '../graphql.ts'
import type { ActedSuggestionFields, SuggestionFields, SuggestionsSubscription } from '../api/documents.ts'

export type Suggestion = ResultOf<typeof SuggestionFields>
/** A suggestion as an action, an undo or a status list returns it (with statusEndsAt / statusSetAt). */
export type ActedSuggestion = ResultOf<typeof ActedSuggestionFields>
export type SuggestionEvent = ResultOf<typeof SuggestionsSubscription>['suggestions']
export type SuggestionAction = 'accept' | 'dismiss' | 'snooze'

/** A user action on one suggestion: pending until the server answers, then done; undoing while its undo is on the way. */
export interface Override {
  action: SuggestionAction
  /** The suggestion as last known: the server's answer once done. */
  suggestion: Suggestion | ActedSuggestion
  state: 'pending' | 'done' | 'undoing'
  /** Snooze: until when (ISO). */
  until?: string
  /** Its index in the list when acted on: an undo puts it back there. */
  position: number
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
  /** The server refused the stream for a reason waiting will not clear (dropReason says why): no more attempts. */
  | 'refused'

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
  /** When the next attempt is due (ms since the epoch; null: not waiting, or not known), for the countdown. */
  retryAt: number | null
  /** What the aria-live region says. */
  announcement: string
  /** When the list last became whole or was re-ranked (ms since the epoch; null: not yet, or not known). */
  updatedAt: number | null
  /** The suggestion whose action the undo toast offers to undo (null: no toast). */
  toast: string | null
}

/** The part of the state the stream makes (not the user's actions): what a leader tab hands a follower. */
export type StreamSnapshot = Pick<SuggestionsState, 'connection' | 'phase' | 'items' | 'refresh' | 'scanned' | 'throttled' | 'summary' | 'dropReason' | 'retryInMs' | 'retryAt' | 'updatedAt'>

/** The stream's part of `state`, for a tab that joins. */
export function streamSnapshot(state: SuggestionsState): StreamSnapshot {
  const { connection, phase, items, refresh, scanned, throttled, summary, dropReason, retryInMs, retryAt, updatedAt } = state
  return { connection, phase, items, refresh, scanned, throttled, summary, dropReason, retryInMs, retryAt, updatedAt }
}

export type SuggestionsEvent =
  /** A subscription starts: the first one, a resumed one (with the cursor), or a fresh walk. */
  | { type: 'subscribed'; resumeFrom: string | null }
  /** `at`: when it arrived (ms since the epoch), for "Updated 2 min ago". */
  | { type: 'received'; event: SuggestionEvent; at?: number }
  /** The socket is open and the subscription sent: the server is walking. */
  | { type: 'opened' }
  /** `at`: when it dropped (ms since the epoch), for the countdown. */
  | { type: 'dropped'; message: string; retryInMs: number; at?: number }
  | { type: 'unauthorized' }
  | { type: 'refused'; message: string }
  /** A follower tab joins: the leader's stream state, taken whole. */
  | { type: 'snapshot'; stream: StreamSnapshot }
  | { type: 'actionStarted'; action: SuggestionAction; suggestion: Suggestion; until?: string }
  | { type: 'actionSucceeded'; suggestion: Suggestion | ActedSuggestion }
  | { type: 'actionFailed'; id: string; message: string }
  | { type: 'undoStarted'; id: string }
  /** The action of `id` was undone; `suggestion` is as the server has it now. */
  | { type: 'undoSucceeded'; id: string; suggestion: Suggestion }
  | { type: 'undoFailed'; id: string; message: string }
  /** A hidden (or planned) suggestion was restored: it may be suggested again, so it is back in the list. */
  | { type: 'restored'; suggestion: Suggestion }
  | { type: 'toastExpired'; id: string }
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
  retryAt: null,
  announcement: '',
  updatedAt: null,
  toast: null,
}

/** The stream events a leader tab fans out to the others (the rest are the tab's own). */
export function isStreamEvent(event: SuggestionsEvent): boolean {
  return event.type === 'subscribed' || event.type === 'received' || event.type === 'opened' || event.type === 'dropped' || event.type === 'unauthorized' || event.type === 'refused'
}

/** `items` with `suggestion` at `index` (clamped), unless its contact is already there. */
function putBack(items: Suggestion[], suggestion: Suggestion, index: number): Suggestion[] {
  if (items.some((item) => item.contact.id === suggestion.contact.id)) return items
  const at = Math.max(0, Math.min(index, items.length))
  return [...items.slice(0, at), suggestion, ...items.slice(at)]
}

/** Just the fields of the live list (a status list's answer carries more). */
function listFields({ id, priority, reason, status, slot, contact }: Suggestion): Suggestion {
  return { id, priority, reason, status, slot, contact }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function receive(state: SuggestionsState, event: SuggestionEvent, at: number | null): SuggestionsState {
  const live = { ...state, connection: 'live' as const, retryInMs: null, retryAt: null, dropReason: null }
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
        updatedAt: at,
        refresh: null,
        throttled: null,
        scanned: event.scanned,
        summary,
        announcement: state.refresh ? `Suggestions refreshed: ${items.length}` : `All ${plural(event.total, 'suggestion')} loaded`,
      }
    }
    case 'SuggestionsUpdated':
      return { ...live, items: event.suggestions, updatedAt: at, announcement: `Suggestions updated: ${event.suggestions.length}` }
  }
}

export function suggestionsReducer(state: SuggestionsState, event: SuggestionsEvent): SuggestionsState {
  switch (event.type) {
    case 'subscribed': {
      const connection = state.connection === 'connecting' ? 'connecting' : 'reconnecting'
      if (event.resumeFrom !== null) return { ...state, connection, retryInMs: null, retryAt: null }
      // A fresh walk: before any list was whole there is nothing to keep; after, keep
      // showing the old list until the new one is complete.
      if (state.phase === 'complete') return { ...state, connection, retryInMs: null, retryAt: null, refresh: [] }
      return { ...state, connection, retryInMs: null, retryAt: null, items: [], scanned: 0 }
    }
    case 'opened':
      return state.connection === 'connecting' || state.connection === 'reconnecting' ? { ...state, connection: 'live', dropReason: null } : state
    case 'received':
      return receive(state, event.event, event.at ?? null)
    case 'dropped':
      return { ...state, connection: 'dropped', dropReason: event.message, retryInMs: event.retryInMs, retryAt: event.at !== undefined ? event.at + event.retryInMs : null }
    case 'unauthorized':
      return { ...state, connection: 'unauthorized' }
    case 'refused':
      return { ...state, connection: 'refused', dropReason: event.message, retryInMs: null, retryAt: null }
    case 'snapshot':
      return { ...state, ...event.stream }
    case 'actionStarted': {
      const { suggestion, action, until } = event
      const position = Math.max(0, state.items.findIndex((item) => item.id === suggestion.id))
      const override: Override = { action, suggestion, state: 'pending', position, ...(until ? { until } : {}) }
      return { ...state, overrides: { ...state.overrides, [suggestion.id]: override }, message: null, toast: suggestion.id }
    }
    case 'actionSucceeded': {
      const current = state.overrides[event.suggestion.id]
      if (!current) return state
      return { ...state, overrides: { ...state.overrides, [event.suggestion.id]: { ...current, suggestion: event.suggestion, state: 'done' } } }
    }
    case 'actionFailed': {
      const { [event.id]: failed, ...overrides } = state.overrides
      if (!failed) return state
      return { ...state, overrides, message: event.message, toast: state.toast === event.id ? null : state.toast }
    }
    case 'undoStarted': {
      const current = state.overrides[event.id]
      if (current?.state !== 'done') return state
      return { ...state, overrides: { ...state.overrides, [event.id]: { ...current, state: 'undoing' } } }
    }
    case 'undoSucceeded': {
      const { [event.id]: undone, ...overrides } = state.overrides
      if (!undone) return state
      const back = event.suggestion.status === 'PENDING'
      const name = undone.suggestion.contact.name
      return {
        ...state,
        overrides,
        toast: null,
        // Planned, dismissed or snoozed as before the action: the status lists show it; pending: back in its place.
        items: back ? putBack(state.items, listFields(event.suggestion), undone.position) : state.items.filter((item) => item.contact.id !== event.suggestion.contact.id),
        announcement: back ? `Undone: ${name} is back in the list` : `Undone: ${name} is ${event.suggestion.status.toLowerCase()} again`,
      }
    }
    case 'undoFailed': {
      const current = state.overrides[event.id]
      if (!current) return state
      return { ...state, overrides: { ...state.overrides, [event.id]: { ...current, state: 'done' } }, message: event.message }
    }
    case 'restored': {
      const { suggestion } = event
      const overrides = Object.fromEntries(Object.entries(state.overrides).filter(([, override]) => override.suggestion.contact.id !== suggestion.contact.id))
      // Placed by priority until the server's next ranking (SuggestionsUpdated) says better.
      const index = state.items.findIndex((item) => item.priority < suggestion.priority)
      return {
        ...state,
        overrides,
        items: putBack(state.items, listFields(suggestion), index === -1 ? state.items.length : index),
        announcement: `${suggestion.contact.name} is back in the list`,
      }
    }
    case 'toastExpired':
      return state.toast === event.id ? { ...state, toast: null } : state
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
