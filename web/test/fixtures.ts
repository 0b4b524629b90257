/** Builders for suggestions and subscription events, as the server sends them. */
import type { Suggestion, SuggestionEvent } from '../src/suggestions/reducer.ts'

export function suggestion(n: number, overrides: Partial<Suggestion> = {}): Suggestion {
  return {
    id: `sg_${n}`,
    priority: 100 - n,
    reason: `Monthly · last talked ${n} days ago`,
    status: 'PENDING',
    slot: { start: '2026-11-26T17:00:00.000Z', end: '2026-11-26T17:30:00.000Z' },
    contact: { id: `Q29udGFjdDo${n}/+=`, name: `Person ${n}`, dunbarCircle: 'CLOSE', timezone: 'Asia/Tokyo' },
    ...overrides,
  }
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => suggestion(from + i))

export const batch = (items: Suggestion[], cursor = `c${items.at(-1)?.id ?? 'none'}`, scanned = 100): SuggestionEvent => ({
  __typename: 'SuggestionBatch',
  suggestions: items,
  cursor,
  scanned,
})
export const throttled = (reason = 'heap 90%'): SuggestionEvent => ({ __typename: 'SuggestionsThrottled', reason, heapUsedBytes: 1e9 })
export const complete = (total: number, scanned = 2000): SuggestionEvent => ({ __typename: 'SuggestionsComplete', total, scanned, durationMs: 812 })
export const updated = (items: Suggestion[]): SuggestionEvent => ({ __typename: 'SuggestionsUpdated', suggestions: items })
