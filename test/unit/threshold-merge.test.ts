/**
 * The pure threshold merge against the naive oracle, without a database:
 * in-memory classes, ties in priority, tiny and empty pages, empty classes,
 * K larger than the total, excluded rows.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DunbarCircle, FrequencyPreference } from '../../src/generated/prisma/enums.ts'
import { calculatePriority } from '../../src/suggestions/priority.ts'
import { compareRanked, rankNaively } from '../../src/suggestions/ranking.ts'
import { ThresholdMerge } from '../../src/suggestions/threshold-merge.ts'
import { DAY_MS } from '../../src/time.ts'

const NOW = new Date('2026-11-25T12:00:00.000Z')
const CIRCLES: (DunbarCircle | null)[] = ['INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE', null]
const FREQUENCIES: (FrequencyPreference | null)[] = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE', null]

interface Feeding {
  /** Page sizes, used in turn for every page asked for (0: an empty page, the class is asked again). */
  pageSizes: number[]
  /** Feed every class's first page before the first step, as the engine does. */
  firstPagesUpFront: boolean
}

/**
 * Drives a merge over `classes` (each in its class order) the way the engine
 * does, until `k` rows are final or the merge is done. Fails on a runaway loop.
 */
function topK<Row extends { id: string }>(
  classes: Row[][],
  k: number,
  priorityOf: (row: Row) => number,
  feeding: Feeding,
  exclude?: (row: Row) => boolean,
): { id: string; priority: number }[] {
  const merge = new ThresholdMerge<Row>({ classCount: classes.length, priorityOf, ...(exclude ? { exclude } : {}) })
  const read = classes.map(() => 0)
  let turn = 0
  const feedNext = (index: number) => {
    const rows = classes[index]!
    if (read[index]! >= rows.length) return merge.end(index)
    const size = feeding.pageSizes[turn++ % feeding.pageSizes.length]!
    merge.feed(index, rows.slice(read[index], read[index]! + size))
    read[index]! += size
  }
  if (feeding.firstPagesUpFront) classes.forEach((rows, index) => (rows.length === 0 ? merge.end(index) : feedNext(index)))
  const out: { id: string; priority: number }[] = []
  for (let steps = 0; out.length < k; steps++) {
    if (steps > 100_000) throw new Error('the merge does not terminate')
    const step = merge.step()
    if (step.kind === 'done') break
    if (step.kind === 'final') out.push({ id: step.row.id, priority: step.priority })
    if (step.kind === 'page') feedNext(step.classIndex)
  }
  return out
}

const feedingArbitrary: fc.Arbitrary<Feeding> = fc.record({
  // Tiny pages (1-3 rows), now and then an empty one; never only empty ones.
  pageSizes: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 })).map(([first, rest]) => [first, ...rest]),
  firstPagesUpFront: fc.boolean(),
})

/** A unique id per row, in an order unrelated to the class order: `key` first, the index breaks ties. */
const idOf = (key: number, index: number) => `${String(key).padStart(4, '0')}-${String(index).padStart(3, '0')}`

describe('ThresholdMerge', () => {
  it('equals the naive full scan over contacts split into circle x frequency classes (oracle property)', () => {
    // Few distinct due dates and circles: many ties in priority within and across classes.
    const contact = fc.record({
      circle: fc.constantFrom(...CIRCLES),
      frequency: fc.constantFrom(...FREQUENCIES),
      dueInDays: fc.constantFrom(-800, -200, -45, -30, -7, -1, 0, 1, 7, 30, 90, 400),
      key: fc.integer({ min: 0, max: 30 }),
      excluded: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(contact, { maxLength: 60 }), fc.integer({ min: 1, max: 80 }), feedingArbitrary, (generated, k, feeding) => {
        const contacts = generated.map((c, index) => ({
          id: idOf(c.key, index),
          dunbarCircle: c.circle,
          frequencyPreference: c.frequency,
          nextDueAt: new Date(NOW.getTime() + c.dueInDays * DAY_MS),
          excluded: c.excluded,
        }))
        // One class per circle x frequency, read as the database does: nextDueAt, then id.
        const classes = CIRCLES.flatMap((circle) =>
          FREQUENCIES.map((frequency) =>
            contacts
              .filter((c) => c.dunbarCircle === circle && c.frequencyPreference === frequency)
              .sort((a, b) => a.nextDueAt.getTime() - b.nextDueAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
          ),
        )
        const merged = topK(classes, k, (c) => calculatePriority(c, NOW), feeding, (c) => c.excluded)
        const expected = rankNaively(
          contacts.filter((c) => !c.excluded),
          NOW,
          k,
        ).map(({ id, priority }) => ({ id, priority }))
        expect(merged).toEqual(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('equals a full sort with integer priorities: ties everywhere, empty classes, K beyond the total', () => {
    const row = fc.record({ priority: fc.integer({ min: 0, max: 4 }), key: fc.integer({ min: 0, max: 20 }) })
    fc.assert(
      fc.property(
        fc.array(fc.array(row, { maxLength: 8 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 70 }),
        feedingArbitrary,
        (generated, k, feeding) => {
          let index = 0
          // Each class in non-increasing priority; rows of equal priority in any id order.
          const classes = generated.map((rows) =>
            rows.map((r) => ({ id: idOf(r.key, index++), priority: r.priority })).sort((a, b) => b.priority - a.priority),
          )
          const merged = topK(classes, k, (r) => r.priority, feeding)
          const expected = classes
            .flat()
            .sort(compareRanked)
            .slice(0, k)
            .map(({ id, priority }) => ({ id, priority }))
          expect(merged).toEqual(expected)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('asks first for the class of highest bound, and is done at once without classes', () => {
    const merge = new ThresholdMerge<{ id: string; p: number }>({ classCount: 2, priorityOf: (r) => r.p })
    // Unfed classes bound everything (+Infinity): the first one is asked first.
    expect(merge.step()).toEqual({ kind: 'page', classIndex: 0 })
    merge.feed(0, [{ id: 'a', p: 1 }])
    expect(merge.step()).toEqual({ kind: 'page', classIndex: 1 })
    merge.feed(1, [{ id: 'b', p: 3 }])
    expect(merge.step()).toEqual({ kind: 'took' }) // b, the highest head
    // b is not above class 1's bound (its own priority) until class 1 says more: its page ran dry.
    expect(merge.step()).toEqual({ kind: 'page', classIndex: 1 })
    merge.end(1)
    expect(merge.step()).toEqual({ kind: 'final', row: { id: 'b', p: 3 }, priority: 3 })
    expect(merge.step()).toEqual({ kind: 'took' })
    expect(merge.step()).toEqual({ kind: 'page', classIndex: 0 })
    merge.end(0)
    expect(merge.step()).toEqual({ kind: 'final', row: { id: 'a', p: 1 }, priority: 1 })
    expect(merge.step()).toEqual({ kind: 'done' })
    expect(new ThresholdMerge({ classCount: 0, priorityOf: () => 0 }).step()).toEqual({ kind: 'done' })
  })

  it('refuses a page for a class that ended or does not exist', () => {
    const merge = new ThresholdMerge<{ id: string }>({ classCount: 1, priorityOf: () => 1 })
    merge.end(0)
    expect(() => merge.feed(0, [{ id: 'a' }])).toThrow(/ended/)
    expect(() => merge.feed(1, [])).toThrow(RangeError)
  })
})
