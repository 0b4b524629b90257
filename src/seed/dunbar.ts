/** The Dunbar circles of seeded contacts: the first contacts of a user fill the inner layers. */
import type { DunbarCircle } from '../generated/prisma/enums.ts'

/** Dunbar's layers: cumulative caps of 5 / 15 / 50 / 150 / 500. */
export const DUNBAR_LAYERS: readonly (readonly [DunbarCircle, number])[] = [
  ['INNER', 5],
  ['CLOSE', 15],
  ['ACTIVE', 50],
  ['CASUAL', 150],
  ['ACQUAINTANCE', 500],
]

const DUNBAR_TOTAL = 500

/**
 * The cumulative index bounds of each circle among `count` contacts: the
 * contacts at index < bound[0] are INNER, then CLOSE up to bound[1], ..., and
 * the rest (index >= bound[4]) have no circle. Below 500 contacts the layers
 * keep their proportions (so every contact has a circle).
 */
export function dunbarBounds(count: number): number[] {
  const scale = Math.min(count, DUNBAR_TOTAL) / DUNBAR_TOTAL
  return DUNBAR_LAYERS.map(([, cap]) => Math.round(cap * scale))
}

/** The circle of the contact at `index` among `bounds` (from {@link dunbarBounds}). */
export function dunbarCircleAt(index: number, bounds: readonly number[]): DunbarCircle | null {
  for (let layer = 0; layer < DUNBAR_LAYERS.length; layer++) {
    if (index < (bounds[layer] as number)) return (DUNBAR_LAYERS[layer] as readonly [DunbarCircle, number])[0]
  }
  return null
}
