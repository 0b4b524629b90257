/**
 * The cost limit, checked after validation and before execution, with the
 * request's variables: Pothos's complexity (a field costs 1, a list multiplies
 * its selection by 10, `contacts` by `first`, see the `complexity` options in
 * src/graphql/types/), and a stream's repeated lists priced once by its argument
 * ({@link streamComplexity}). Checked in the execute and subscribe hooks rather than
 * as a validation rule because it depends on the variables, and Yoga caches
 * validation by document.
 */
import { PothosValidationError } from '@pothos/core'
import { complexityFromQuery } from '@pothos/plugin-complexity'
import { getOperationAST, GraphQLError, Kind, type DocumentNode, type ExecutionArgs } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { isStackOverflow, queryTooComplex, withoutHttpStatus } from './errors.ts'

/**
 * The cost of the operation `args` would execute, or undefined when it cannot be
 * measured (no such operation, variables that do not coerce): execution reports those.
 */
export function operationCost(args: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues' | 'contextValue'>): number | undefined {
  // The cost limit and the partner budgets (budget-plugin.ts) both ask, with the same arguments object.
  if (costs.has(args)) return costs.get(args)
  const cost = measure(args)
  costs.set(args, cost)
  return cost
}

/** Costs already measured, by the execution arguments they were measured for. */
const costs = new WeakMap<object, number | undefined>()

/** While a cost is measured (synchronously), by its context: the multiplier of the stream's lists and the one list kind priced. */
const pricing = new WeakMap<object, { multiplier: number; priced: string | undefined }>()
/** The event types whose lists {@link streamListComplexity} prices. */
const streamListKinds = new Set<string>()

/**
 * The `complexity` of a subscription field whose argument bounds how many items its events carry in all
 * (the `suggestions` stream: `maxSuggestions`). The field itself costs 1 and multiplies nothing: each event
 * list carrying those items ({@link streamListComplexity}) multiplies its selection by `multiplierOf(args)`.
 * The items are charged once, for the costliest of those lists selected (each repeats the same items: the
 * batches send them, SuggestionsComplete again, each live update again; the operation is charged once,
 * when it subscribes). Other event fields cost once each.
 */
export function streamComplexity<Args>(multiplierOf: (args: Args) => number) {
  return (args: Args, ctx: object) => {
    const state = pricing.get(ctx)
    if (state) state.multiplier = multiplierOf(args)
    return { field: 1, multiplier: 1 }
  }
}

/**
 * The `complexity` of an event's list of the stream's items (`kind`: the event type's name): the multiplier
 * {@link streamComplexity} recorded when this kind is the one priced, else 0 (its items are another list's).
 * Measured outside {@link operationCost}: the fixed 10 of a list.
 */
export function streamListComplexity(kind: string) {
  streamListKinds.add(kind)
  return (_args: unknown, ctx: object) => {
    const state = pricing.get(ctx)
    if (!state) return { field: 1, multiplier: 10 }
    return { field: 1, multiplier: state.priced === undefined || state.priced === kind ? state.multiplier : 0 }
  }
}

function measure(args: Parameters<typeof operationCost>[0]): number | undefined {
  const operation = getOperationAST(args.document, args.operationName)
  if (!operation) return undefined
  // complexityFromQuery measures the document's first operation: give it the selected one and the fragments.
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [operation, ...args.document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)],
  }
  const ctx = (args.contextValue ?? {}) as object
  const variables = (args.variableValues ?? {}) as Record<string, unknown>
  // A subscription: once per list kind, that kind's items priced, the others' not; the costliest counts.
  const kinds = operation.operation === 'subscription' && streamListKinds.size > 0 ? [...streamListKinds] : [undefined]
  try {
    let cost = 0
    for (const priced of kinds) {
      pricing.set(ctx, { multiplier: 1, priced })
      cost = Math.max(cost, complexityFromQuery(document, { schema: args.schema, ctx, variables }).complexity)
    }
    return cost
  } catch (error) {
    if (error instanceof PothosValidationError || (error instanceof GraphQLError && !isStackOverflow(error))) return undefined
    throw error
  } finally {
    pricing.delete(ctx)
  }
}

/** The QUERY_TOO_COMPLEX error for `args`, or undefined when the operation is within `maxCost`. */
export function costError(args: Parameters<typeof operationCost>[0], maxCost: number): GraphQLError | undefined {
  let cost: number | undefined
  try {
    cost = operationCost(args)
  } catch (error) {
    if (isStackOverflow(error)) return queryTooComplex('The document is nested too deeply.', { limit: 'nesting' })
    throw error
  }
  if (cost === undefined || cost <= maxCost) return undefined
  return queryTooComplex(`The query costs ${cost}, over the limit of ${maxCost}.`, { limit: 'cost', cost, max: maxCost })
}

/** Envelop plugin refusing operations over `maxCost` before they execute or subscribe (HTTP, SSE, graphql-ws). */
export function useQueryCost(maxCost: number): Plugin {
  const refusal = (args: ExecutionArgs) => {
    const error = costError(args, maxCost)
    if (!error) return undefined
    // Over HTTP the context carries the request; graphql-ws has no HTTP status to give.
    return { errors: [(args.contextValue as { request?: unknown } | undefined)?.request ? error : withoutHttpStatus(error)] }
  }
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const result = refusal(args)
      if (result) setResultAndStopExecution(result)
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const result = refusal(args)
      if (result) setResultAndStopExecution(result)
    },
  }
}
