/**
 * Hostile review (issue 14 asked: "an error in the walk, e.g. the TIMEOUT budget"): a walk past its time
 * budget ends with a retryable TIMEOUT that carries `resumeFrom`, and a shared walk hands that one error
 * to every subscriber. The cursor must point after the last suggestion the client RECEIVED. The engine
 * moves its position as each suggestion becomes final, before the batch holding it is sent, so a budget
 * that runs out between the two (the check runs on every step of the merge) gives a cursor past
 * suggestions nobody got: resuming from it skips them for good.
 *
 * The budget is made to run out at each step in turn: the walk's clock (performance.now) jumps when the
 * merge takes its k-th row (the one moment the engine calls back: `excluded.has`). At k = 3 (this fixture)
 * the cursor names two suggestions that sat in the unsent batch: resuming never gives them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ClientError } from '../../src/errors.ts'
import { createSuggestionEngine, type Suggestion, type SuggestionEngine, type SuggestionEvent } from '../../src/suggestions/generator.ts'
import type { SuggestionState } from '../../src/suggestions/suggestion-status.ts'
import { availableDatabaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'

const kinds = await availableDatabaseKinds()
const BUDGET_MS = 1000

describe.runIf(kinds.includes('postgres'))('hostile issue 14: a TIMEOUT’s resumeFrom never skips a suggestion', () => {
  let db: TestDatabase
  let alice: FixtureUser
  /** What the walk's clock is pushed forward by (ms). */
  let jump = 0
  /** `excluded.has` calls left before the clock jumps past the budget (none: never). */
  let takesBeforeJump: number | undefined

  beforeAll(async () => {
    db = await openTestDatabase('postgres')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 60)
    const realNow = performance.now.bind(performance)
    vi.spyOn(performance, 'now').mockImplementation(() => realNow() + jump)
  })
  afterEach(() => {
    takesBeforeJump = undefined
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await db?.destroy()
  })

  /** Nothing excluded; each row the merge takes is asked here, and the clock jumps at the chosen one. */
  const excludedNothing = (): Set<string> =>
    new (class extends Set<string> {
      override has(value: string): boolean {
        if (takesBeforeJump !== undefined && --takesBeforeJump === 0) jump += 10 * BUDGET_MS
        return super.has(value)
      }
    })()

  const engine: () => SuggestionEngine = () =>
    createSuggestionEngine({
      prisma: db.prisma,
      contactRows: db,
      now: () => FIXTURE_NOW,
      defaultSlots: async () => [],
      userTimezone: async () => 'UTC',
      suggestionState: async (): Promise<SuggestionState> => ({ excluded: excludedNothing(), taken: [] }),
      walkTimeBudgetMs: BUDGET_MS,
    })

  /** The suggestions of a walk's batches, and its error if it ended with one. */
  async function walk(options: { resumeFrom?: string }) {
    const received: Suggestion[] = []
    try {
      for await (const event of engine().generateTimeboundSuggestionsStreaming(alice.id, { maxSuggestions: 20, batchSize: 5, ...options }) as AsyncGenerator<SuggestionEvent>) {
        if (event.kind === 'batch') received.push(...event.suggestions)
      }
      return { received, error: undefined }
    } catch (error) {
      return { received, error }
    }
  }

  it('resuming from a TIMEOUT gives exactly the suggestions not yet received, none skipped', async () => {
    const whole = (await walk({})).received.map((s) => s.contact.id)
    expect(whole).toHaveLength(20)

    for (let takes = 1; takes <= 40; takes++) {
      takesBeforeJump = takes
      const cut = await walk({})
      const error = cut.error as ClientError | undefined
      const resumeFrom = error?.details?.resumeFrom as string | undefined
      takesBeforeJump = undefined
      const resumed = resumeFrom ? (await walk({ resumeFrom })).received : cut.error ? (await walk({})).received : []
      expect([...cut.received, ...resumed].map((s) => s.contact.id), `TIMEOUT at the merge's take ${takes}: received before it, then resumed from its cursor`).toEqual(whole)
    }
  })
})
