/**
 * The cost of documents (query-cost.ts, the `complexity` options of src/graphql/types/): the numbers
 * docs/partners.md gives (Limits), and lists whose size an argument sets priced by that argument, not by
 * the fixed 10 of a list: the `suggestions` subscription by `maxSuggestions` (a hostile review found
 * 500 contacts delivered for 53 points), `setAvailability` by its windows. The web client's documents
 * stay within the cost limit at the largest `maxSuggestions` (500).
 */
import { formatDocument } from '@urql/core'
import { parse, print } from 'graphql'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import { operationCost } from '../../src/graphql/limits/query-cost.ts'
import { schema } from '../../src/graphql/schema.ts'
import { SuggestionsSubscription } from '../../web/src/api/documents.ts'

const costOf = (query: string, variables: Record<string, unknown> = {}) =>
  operationCost({ schema, document: parse(query), operationName: undefined, variableValues: variables, contextValue: {} })

const CONTACT = 'name email phone customNotes'

describe('operation cost', () => {
  it('gives the numbers of docs/partners.md', () => {
    expect(costOf('{ me { id email } }')).toBe(3)
    // A page of 100 with seven fields, its cursors and pageInfo: 1,301.
    expect(
      costOf(
        '{ contacts(first: 100) { edges { cursor node { id name email phone nextDueAt dunbarCircle timezone } } pageInfo { hasNextPage endCursor } } }',
      ),
    ).toBe(1301)
    expect(costOf('{ contacts(first: 1000) { edges { node { id name } } } }')).toBe(4001)
  })

  it('prices the suggestions subscription by maxSuggestions, like contacts(first:) with the same fields', () => {
    const contacts = costOf(`{ contacts(first: 500) { edges { node { ${CONTACT} } } } }`)
    const stream = costOf(`subscription { suggestions(input: { maxSuggestions: 500 }) { ... on SuggestionBatch { suggestions { contact { ${CONTACT} } } } } }`)
    expect(contacts).toBe(3001) // edges and node cost 1 each per contact
    expect(stream).toBe(1 + 1 + 500 * 5)
    // By variable too, and the default (50) when it is not given.
    const byVariable = `subscription S($n: Int) { suggestions(input: { maxSuggestions: $n }) { ... on SuggestionBatch { suggestions { contact { ${CONTACT} } } } } }`
    expect(costOf(byVariable, { n: 200 })).toBe(1 + 1 + 200 * 5)
    expect(costOf(`subscription { suggestions { ... on SuggestionBatch { suggestions { id } } } }`)).toBe(1 + 1 + 50)
    // The final list and the updates repeat the batches' suggestions: the costliest selection counts, once.
    const everyKind = `subscription { suggestions(input: { maxSuggestions: 100 }) {
      ... on SuggestionBatch { suggestions { id } }
      ... on SuggestionsComplete { suggestions { id } }
      ... on SuggestionsUpdated { suggestions { id contact { name } } } } }`
    expect(costOf(everyKind)).toBe(1 + 3 + 100 * 3)
    // batchSize and slots do not change what is sent; live updates are charged once, at subscribe.
    expect(costOf(`subscription { suggestions(input: { maxSuggestions: 100, batchSize: 1000, slots: [], live: false }) { ... on SuggestionsUpdated { suggestions { id } } } }`)).toBe(1 + 1 + 100)
    // Out of range the stream refuses it (BAD_USER_INPUT): only the field is priced.
    expect(costOf(`subscription { suggestions(input: { maxSuggestions: 501 }) { ... on SuggestionBatch { suggestions { id } } } }`)).toBe(2)
  })

  it("keeps the web client's suggestions stream within the cost limit at maxSuggestions 500", () => {
    const cost = costOf(print(formatDocument(SuggestionsSubscription as Parameters<typeof formatDocument>[0])), { input: { maxSuggestions: 500 } })
    // Its suggestion (with urql's __typename) costs 16: 500 of them, and the events' own fields once.
    expect(cost).toBeGreaterThan(500 * 16)
    expect(cost).toBeLessThanOrEqual(parseConfig({}).requestLimits.maxQueryCost)
  })

  it('prices the page fields by first and setAvailability by its windows', () => {
    expect(costOf('{ suggestionsByStatus(statuses: [SNOOZED], first: 100) { edges { node { id } } } }')).toBe(1 + 100 * 3)
    expect(costOf('{ imports(first: 100) { edges { node { id } } } }')).toBe(1 + 100 * 3)
    expect(costOf('{ syncConflicts(first: 100) { id } }')).toBe(1 + 100)
    expect(costOf('{ contacts(first: 10) { edges { node { interactions(first: 100) { edges { node { id } } } } } } }')).toBe(1 + 10 * (1 + 1 + 1 + 100 * 3))
    const windows = Array.from({ length: 30 }, () => '{ weekday: 1, startMinute: 0, endMinute: 60 }').join(', ')
    expect(costOf(`mutation { setAvailability(windows: [${windows}]) { weekday startMinute endMinute } }`)).toBe(1 + 30 * 3)
  })
})
