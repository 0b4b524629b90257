/**
 * The partner budgets (graphql/limits/budget.ts) on the file routes outside GraphQL: the downloads
 * (`/export/*`) and the uploads (`/import/*`). A budgeted credential (an API key or an OAuth app; the
 * user's own session has no budget) is charged a flat PARTNER_TRANSFER_POINTS per transfer (at most
 * the whole hourly budget, so a transfer can always pass once an hour) and holds a concurrent-request
 * lease until its answer ends or its client leaves. Every answer to it carries `RateLimit-Policy` and
 * `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11, as on /graphql); over budget the answer is
 * 429 with `Retry-After` and the routes' JSON error: `{"errors":[{"message","extensions":{"code":
 * "RATE_LIMITED","retryAfterSeconds","policy"}}]}`.
 */
import type { ServerResponse } from 'node:http'
import { isPartnerCredential, type BudgetCredential, type CredentialBudgets } from '../graphql/limits/budget.ts'
import { formatRateLimit, formatRateLimitPolicy, type ServiceLimit } from '../graphql/limits/ratelimit-headers.ts'
import { sendJsonError } from './json-error.ts'

/** The budgets of the file routes: app.ts passes the server's (the same buckets and leases as GraphQL's). */
export interface RouteBudgets {
  budgets: CredentialBudgets
  /** Which credentials have budgets (default: API keys and OAuth apps, as for GraphQL). */
  isBudgeted?: ((credential: BudgetCredential) => boolean) | undefined
}

/** What {@link admitTransfer} decided: `release` ends the lease (idempotent; a no-op when not budgeted), or null when it answered 429. */
export type TransferAdmission = { release: () => void } | null

const noop = () => {}

/** Sets the RateLimit fields of `limits` on `res` (RateLimit only when there are items). */
function setRateLimitFields(res: ServerResponse, budgets: CredentialBudgets, limits: readonly ServiceLimit[]): void {
  if (res.headersSent) return
  res.setHeader('ratelimit-policy', formatRateLimitPolicy(budgets.policies()))
  if (limits.length > 0) res.setHeader('ratelimit', formatRateLimit(limits))
}

/** Whether `credential` is budgeted under `routeBudgets`. */
function budgeted(routeBudgets: RouteBudgets | undefined, credential: BudgetCredential): routeBudgets is RouteBudgets {
  return routeBudgets !== undefined && (routeBudgets.isBudgeted ?? isPartnerCredential)(credential)
}

/**
 * Sets the RateLimit fields of a budgeted `credential` as its buckets are, spending nothing: for an
 * answer that refuses before the transfer (a scope, a per-user cap, a bad header). Nothing for
 * credentials without a budget. Never throws (a budget store that fails leaves the fields out).
 */
export async function peekRateLimitFields(res: ServerResponse, routeBudgets: RouteBudgets | undefined, credential: BudgetCredential): Promise<void> {
  if (!budgeted(routeBudgets, credential)) return
  const limits = await routeBudgets.budgets.peek(credential).catch(() => null)
  if (limits) setRateLimitFields(res, routeBudgets.budgets, limits)
}

/**
 * Admits a transfer of `credential`: charges PARTNER_TRANSFER_POINTS and takes a concurrent-request
 * lease, setting the RateLimit fields on `res`. Refused: answers 429 RATE_LIMITED with Retry-After
 * (and `closeConnection` when the request body is left unread) and returns null. The caller calls
 * `release` when the answer has ended, however it ended.
 * @throws what the budget store throws other than a refusal (Redis errors fall back to this process).
 */
export async function admitTransfer(res: ServerResponse, routeBudgets: RouteBudgets | undefined, credential: BudgetCredential, closeConnection = false): Promise<TransferAdmission> {
  if (!budgeted(routeBudgets, credential)) return { release: noop }
  const { budgets } = routeBudgets
  const decision = await budgets.admit(credential, Math.min(budgets.limits.transferPoints, budgets.limits.pointsPerHour), 'request')
  setRateLimitFields(res, budgets, decision.limits)
  if (decision.allowed) return { release: decision.release }
  res.setHeader('retry-after', String(decision.retryAfterSeconds))
  if (closeConnection) res.setHeader('connection', 'close')
  sendJsonError(res, 429, 'RATE_LIMITED', decision.message, { retryAfterSeconds: decision.retryAfterSeconds, policy: decision.policy })
  return null
}
