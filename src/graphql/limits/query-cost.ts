/**
 * The cost limit, checked after validation and before execution, with the
 * request's variables: Pothos's complexity (a field costs 1, a list multiplies
 * its selection by 10, `contacts` by `first`, see the `complexity` options in
 * src/graphql/types/). Checked in the execute and subscribe hooks rather than
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

function measure(args: Parameters<typeof operationCost>[0]): number | undefined {
  const operation = getOperationAST(args.document, args.operationName)
  if (!operation) return undefined
  // complexityFromQuery measures the document's first operation: give it the selected one and the fragments.
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [operation, ...args.document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)],
  }
  try {
    return complexityFromQuery(document, { schema: args.schema, ctx: (args.contextValue ?? {}) as object, variables: (args.variableValues ?? {}) as Record<string, unknown> }).complexity
  } catch (error) {
    if (error instanceof PothosValidationError || (error instanceof GraphQLError && !isStackOverflow(error))) return undefined
    throw error
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
