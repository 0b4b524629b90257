/** Builders for suggestions and subscription events, as the server sends them. */
import type { ActedSuggestion, Suggestion, SuggestionEvent } from '../src/suggestions/reducer.ts'

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

/** The status lists' answer: `nodes` (ACCEPTED for Planned; DISMISSED / SNOOZED for Hidden) by the statuses asked. */
export function statusLists(nodes: ActedSuggestion[] = []) {
  return (variables: Record<string, unknown>) => {
    const statuses = variables.statuses as string[]
    const matching = nodes.filter((node) => statuses.includes(node.status))
    return {
      suggestionsByStatus: {
        edges: matching.map((node) => ({ cursor: `c${node.id}`, node })),
        pageInfo: { endCursor: null, hasNextPage: false },
        totalCount: matching.length,
      },
    }
  }
}

const DAY = 86_400_000

/**
 * A suggestion as an action or a status list returns it: `status` set at `setAt`, ending `days` later
 * (null: no end). With its `__typename`, as the server sends it, so urql's cache sees which lists it touches.
 */
export function acted(n: number, status: ActedSuggestion['status'], days: number | null, setAt = '2026-11-30T10:00:00.000Z'): ActedSuggestion {
  const statusEndsAt = days === null ? null : new Date(new Date(setAt).getTime() + days * DAY).toISOString()
  return { __typename: 'Suggestion', ...suggestion(n, { status }), statusSetAt: status === 'PENDING' ? null : setAt, statusEndsAt } as ActedSuggestion
}
