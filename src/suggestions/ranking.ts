/** The order of suggestions, and the naive full-scan ranking the engine must equal. Pure. */
import { calculatePriority, type ScoringInputs } from './priority.ts'

export interface Ranked {
  id: string
  priority: number
}

/** Priority descending, then id ascending: a total order. */
export function compareRanked(a: Ranked, b: Ranked): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * The oracle: score every contact, sort, keep the first `k`. O(n log n) time and
 * O(n) memory; what the streaming engine computes in O(k + classes x pages).
 */
export function rankNaively<C extends ScoringInputs & { id: string }>(
  contacts: Iterable<C>,
  now: Date,
  k: number,
): (C & { priority: number })[] {
  const scored = [...contacts].map((contact) => ({ ...contact, priority: calculatePriority(contact, now) }))
  return scored.sort(compareRanked).slice(0, k)
}
