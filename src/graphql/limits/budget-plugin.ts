/**
 * The partner budgets (budget.ts) on every transport. An operation of a budgeted credential
 * (an API key or an OAuth app) is admitted before it executes or subscribes, charged its cost
 * (query-cost.ts), and holds a lease on the credential's concurrent requests (queries, mutations)
 * or streams (subscriptions, over SSE and graphql-ws alike) until it ends.
 *
 * Over budget: RATE_LIMITED with `retryAfterSeconds` and the refused `policy`; over HTTP status 429
 * with `Retry-After` (whole seconds) and the RateLimit fields of the refused policy; over graphql-ws
 * an error for that operation only (the socket stays open). An operation costing more than a whole
 * hour's budget is QUERY_TOO_COMPLEX (`limit: 'budget'`): waiting would not help.
 *
 * Every HTTP answer to a budgeted credential carries `RateLimit-Policy` (every policy) and
 * `RateLimit` (what is available under each after this operation), as draft-ietf-httpapi-
 * ratelimit-headers-11 defines them (ratelimit-headers.ts); an answer refused before execution (a
 * syntax error, say) carries the buckets as they are. Over graphql-ws, where there are no headers,
 * a result carries the same items as `extensions.rateLimit`.
 */
import { isAsyncIterable } from '@envelop/core'
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { createGraphQLError, type Plugin } from 'graphql-yoga'
import type { Logger } from '../../logger.ts'
import { isPartnerCredential, type BudgetCredential, type BudgetDecision, type CredentialBudgets, type LeaseKind } from './budget.ts'
import { queryTooComplex, withoutHttpStatus } from './errors.ts'
import { operationCost } from './query-cost.ts'
import { formatRateLimit, formatRateLimitPolicy, type ServiceLimit } from './ratelimit-headers.ts'

export interface BudgetPluginOptions {
  budgets: CredentialBudgets
  /** Which credentials have budgets (default: API keys and OAuth apps, budget.ts `isPartnerCredential`). */
  isBudgeted?: (credential: BudgetCredential) => boolean
  /**
   * The credential of an HTTP request (cached per request in app.ts), for answers that end before
   * execution: they carry the buckets too. Omitted: such answers carry no RateLimit fields.
   */
  credentialOfRequest?: (request: Request) => Promise<BudgetCredential | null>
  logger: Logger
}

/** What the context of an operation gives this plugin. */
interface BudgetContext {
  credential?: BudgetCredential | null
  request?: Request
}

/** The RATE_LIMITED or QUERY_TOO_COMPLEX error of a refusal; with an HTTP status unless the operation came over graphql-ws. */
export function budgetError(decision: Extract<BudgetDecision, { allowed: false }>, overHttp: boolean): GraphQLError {
  if (decision.policy === 'cost') {
    const error = queryTooComplex(decision.message, { limit: 'budget', cost: decision.cost })
    return overHttp ? error : withoutHttpStatus(error)
  }
  const error = createGraphQLError(decision.message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds: decision.retryAfterSeconds,
      policy: decision.policy,
      http: { status: 429, headers: { 'retry-after': String(decision.retryAfterSeconds) } },
    },
  })
  return overHttp ? error : withoutHttpStatus(error)
}

/**
 * An iterator over `source` that calls `release` once, when it ends however it ends: done, `return()`
 * (the client left), `throw()`, or a failing `next()`. A generator would not do: `return()` before the
 * first `next()` skips its `finally`.
 */
export function releasingIterator<T>(source: AsyncIterable<T>, release: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]()
  const settle = <R>(promise: Promise<IteratorResult<T, R>>) =>
    promise.then(
      (result) => {
        if (result.done) release()
        return result
      },
      (error: unknown) => {
        release()
        throw error
      },
    )
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    next: () => settle(iterator.next()),
    return: (value?: unknown) => {
      release()
      return iterator.return ? iterator.return(value) : Promise.resolve({ done: true as const, value: value as T })
    },
    throw: (error?: unknown) => {
      release()
      return iterator.throw ? settle(iterator.throw(error)) : Promise.reject(error)
    },
  }
}

/** Yoga plugin of the partner budgets (see the module's comment). */
export function useCredentialBudgets({ budgets, isBudgeted = isPartnerCredential, credentialOfRequest, logger }: BudgetPluginOptions): Plugin {
  const policyHeader = formatRateLimitPolicy(budgets.policies())
  /** The RateLimit items of an HTTP request's last budgeted operation. */
  const answered = new WeakMap<Request, ServiceLimit[]>()

  /**
   * Admits the operation of `args` as a `kind` lease, or answers it with the refusal. Returns the
   * lease's release when admitted, undefined when the operation is not budgeted or was refused.
   */
  async function admit(args: ExecutionArgs, kind: LeaseKind, stop: (result: ExecutionResult) => void): Promise<{ release: () => void; limits: ServiceLimit[] } | undefined> {
    const context = args.contextValue as BudgetContext | undefined
    const credential = context?.credential
    if (!credential || !isBudgeted(credential)) return undefined
    // An operation that cannot be measured (variables that do not coerce) fails in execution: it is charged 1.
    const decision = await budgets.admit(credential, operationCost(args) ?? 1, kind)
    const request = context.request
    if (request) answered.set(request, decision.limits)
    if (decision.allowed) return { release: decision.release, limits: decision.limits }
    logger.debug({ policy: decision.policy, cost: decision.cost, tokenId: credential.tokenId }, 'partner budget refused an operation')
    const error = budgetError(decision, request !== undefined)
    stop(request ? { errors: [error] } : { errors: [error], extensions: { rateLimit: decision.limits } })
    return undefined
  }

  /** Runs `run` under a lease: released when it throws, when its result is not a stream, or when its stream ends. */
  async function underLease<T>(run: () => Promise<T> | T, release: () => void): Promise<T> {
    let result: T
    try {
      result = await run()
    } catch (error) {
      release()
      throw error
    }
    if (isAsyncIterable(result)) return releasingIterator(result, release) as T
    release()
    return result
  }

  /** Over graphql-ws a result carries the RateLimit items in its extensions. */
  const withLimits = (result: ExecutionResult, limits: ServiceLimit[]): ExecutionResult => ({ ...result, extensions: { ...result.extensions, rateLimit: limits } })

  return {
    async onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const kind: LeaseKind = getOperationAST(args.document, args.operationName)?.operation === 'subscription' ? 'stream' : 'request'
      const admitted = await admit(args, kind, setResultAndStopExecution)
      if (!admitted) return
      const overSocket = !(args.contextValue as BudgetContext).request
      // Wrapping execute, not onExecuteDone: a rejected execute never reaches onExecuteDone, and a lease must never leak.
      setExecuteFn(async (executeArgs) => {
        const result = await underLease(() => executeFn(executeArgs), admitted.release)
        return overSocket && !isAsyncIterable(result) ? (withLimits(result as ExecutionResult, admitted.limits) as typeof result) : result
      })
    },
    async onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const admitted = await admit(args, 'stream', setResultAndStopExecution)
      if (!admitted) return
      // A stream holds its lease until it ends (its client leaves: `return()`); a refusal (a result) at once.
      setSubscribeFn((subscribeArgs) => underLease(() => subscribeFn(subscribeArgs), admitted.release))
    },
    async onResponse({ request, response }) {
      let limits = answered.get(request)
      if (!limits && credentialOfRequest) {
        const credential = await credentialOfRequest(request).catch(() => null)
        if (credential && isBudgeted(credential)) limits = await budgets.peek(credential)
      }
      if (!limits) return
      response.headers.set('RateLimit-Policy', policyHeader)
      if (limits.length > 0) response.headers.set('RateLimit', formatRateLimit(limits))
    },
  }
}
