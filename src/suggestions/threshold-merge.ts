/**
 * The threshold merge at the heart of the suggestion engine, as a pure state
 * machine fed pages: no database, no clock, no I/O. Pure: `now` lives in the
 * priority function the caller passes.
 *
 * The rows are split into classes; within a class they arrive in an order in
 * which the priority never increases (for contacts: a Dunbar circle x
 * frequency preference class read by `nextDueAt` ascending, see priority.ts).
 * So the head of a class bounds every row of it not yet read. The merge always
 * takes the next row of the class whose bound is highest; a row whose priority
 * is strictly above every bound is final. Rows come out in the total order of
 * {@link compareRanked} (priority descending, then id ascending): the first K
 * are exactly the top K of all the rows, whatever the page sizes.
 *
 * The caller drives it one {@link MergeStep} at a time: `final` hands over the
 * next row of the ranking, `page` asks for the next page of a class
 * (answer with {@link ThresholdMerge.feed} or {@link ThresholdMerge.end}),
 * `took` says a row was read into the candidates (a unit of work: the caller
 * may yield to the event loop there), `done` says every row was handed over.
 * The caller stops whenever it has the K it wants.
 */
import { compareRanked } from './ranking.ts'

/** One unit of the merge's work; see {@link ThresholdMerge.step}. */
export type MergeStep<Row> =
  | { kind: 'final'; row: Row; priority: number }
  | { kind: 'took' }
  | { kind: 'page'; classIndex: number }
  | { kind: 'done' }

export interface ThresholdMergeOptions<Row> {
  /** How many classes (fed by index 0..classCount-1). */
  classCount: number
  /** A row's priority; within a class, non-increasing in the order rows are fed. */
  priorityOf: (row: Row) => number
  /** Rows that still bound their class but are never handed over (e.g. dismissed contacts). */
  exclude?: (row: Row) => boolean
}

/** One class: its current page and what has been read of it. */
interface ClassState<Row> {
  rows: readonly Row[]
  position: number
  /** Priority of the head row, computed once per head. */
  headPriority: number | undefined
  /** Priority of the last row taken: an upper bound for the unread rest while the page is empty. */
  bound: number
  /** No row is left to read in this class. */
  ended: boolean
}

interface Candidate<Row> {
  row: Row
  id: string
  priority: number
}

/**
 * The exact top-K merge over classes of rows fed page by page (see the module
 * comment). Memory: the pages fed plus the candidates (rows read but not yet
 * final: ties of the highest bound, so a handful).
 */
export class ThresholdMerge<Row extends { id: string }> {
  private readonly classes: ClassState<Row>[]
  private readonly candidates: Candidate<Row>[] = []
  private readonly priorityOf: (row: Row) => number
  private readonly exclude: ((row: Row) => boolean) | undefined

  constructor(options: ThresholdMergeOptions<Row>) {
    this.priorityOf = options.priorityOf
    this.exclude = options.exclude
    this.classes = Array.from({ length: options.classCount }, () => ({
      rows: [],
      position: 0,
      headPriority: undefined,
      bound: Number.POSITIVE_INFINITY,
      ended: false,
    }))
  }

  /**
   * The next page of class `classIndex`, in the class's order (it replaces the
   * previous page, whose rows were all taken). An empty page is allowed: the
   * class is asked again.
   */
  feed(classIndex: number, rows: readonly Row[]): void {
    const state = this.classAt(classIndex)
    if (state.ended) throw new Error(`class ${classIndex} has ended`)
    state.rows = rows
    state.position = 0
    state.headPriority = undefined
  }

  /** Class `classIndex` has no further rows (its unread page, if any, is dropped). */
  end(classIndex: number): void {
    const state = this.classAt(classIndex)
    state.ended = true
    state.rows = []
    state.position = 0
    state.headPriority = undefined
  }

  /**
   * One unit of work: hands over the next final row, reads one row into the
   * candidates, asks for a page, or says the merge is done. Calling it again
   * after `page` without feeding or ending that class asks again.
   */
  step(): MergeStep<Row> {
    // The highest bound over every class not yet ended (the first class wins a tie).
    let best: ClassState<Row> | undefined
    let bestIndex = -1
    let bound = Number.NEGATIVE_INFINITY
    this.classes.forEach((state, index) => {
      if (state.ended) return
      const priority = this.headOf(state)
      if (best === undefined || priority > bound) {
        bound = priority
        best = state
        bestIndex = index
      }
    })
    // A candidate strictly above the bound is final (every candidate is, once all classes ended).
    this.candidates.sort(compareRanked)
    const first = this.candidates[0]
    if (first && (best === undefined || first.priority > bound)) {
      this.candidates.shift()
      return { kind: 'final', row: first.row, priority: first.priority }
    }
    if (best === undefined) return { kind: 'done' }
    const row = best.rows[best.position]
    if (row === undefined) return { kind: 'page', classIndex: bestIndex }
    best.position++
    best.headPriority = undefined
    const priority = bound
    best.bound = priority
    if (!this.exclude?.(row)) this.candidates.push({ row, id: row.id, priority })
    return { kind: 'took' }
  }

  private classAt(classIndex: number): ClassState<Row> {
    const state = this.classes[classIndex]
    if (!state) throw new RangeError(`no class ${classIndex}`)
    return state
  }

  /** The class's bound: its head row's priority, or the last taken one's while its page is empty. */
  private headOf(state: ClassState<Row>): number {
    const row = state.rows[state.position]
    if (row === undefined) return state.bound
    state.headPriority ??= this.priorityOf(row)
    return state.headPriority
  }
}
