/**
 * Budgets per partner credential (issue 16, part 4), keyed `${kind}:${tokenId}`:
 * - points: an operation spends its cost (query-cost.ts `operationCost`, at least 1) from an
 *   hourly bucket and from a burst bucket (a short window: an operation costing more than the
 *   whole burst bucket is charged the bucket, so it passes once the bucket is full). Both must
 *   allow it; a refused operation spends nothing (what was taken is given back).
 * - concurrency: leases on the credential's executing queries and mutations (and its downloads and
 *   uploads, http/route-budget.ts), and on its open streams (subscriptions over SSE or graphql-ws), each bounded.
 *
 * With Redis, every process shares the buckets (rate-limiter-flexible's RateLimiterRedis: one
 * atomic INCRBY with its expiry per bucket, fixed windows) and the leases (one sorted set per
 * credential and kind, a member per lease scored by its expiry in Redis's own clock; this process
 * renews its leases, so those of a process that died expire within {@link LEASE_TTL_MS}). While
 * Redis is unreachable each process falls back to its own in-process budgets (rate-limiter-flexible's
 * insurance limiter; in-process leases), so a Redis outage relaxes the budgets per process instead of
 * refusing every partner. Without Redis, RateLimiterMemory and in-process leases.
 *
 * Transport-agnostic: the Yoga plugin (budget-plugin.ts) turns decisions into headers and errors.
 * Why not BurstyRateLimiter: it lets a burst go *beyond* the main rate; here the burst bucket is a
 * second bound that smooths the hourly one, so both are checked.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { PartnerBudgets } from '../../config.ts'
import { REDIS_PING_TIMEOUT_MS } from '../../pubsub/redis-ping.ts'
import { HOUR_MS } from '../../time.ts'
import type { QuotaPolicy, ServiceLimit } from './ratelimit-headers.ts'
import { secondsUntil } from './ratelimit-headers.ts'

/** What of a credential the budgets read (src/auth/authenticate.ts's Credential; `kind` may be absent in tests' stand-ins). */
export interface BudgetCredential {
  tokenId: string
  kind?: string | undefined
}

/** True for the credentials that have budgets: API keys and OAuth apps (a user's own session keeps the per-user limits only). */
export function isPartnerCredential(credential: BudgetCredential | null | undefined): credential is BudgetCredential {
  return credential?.kind === 'apiKey' || credential?.kind === 'oauth'
}

/** The key of a credential's budgets: `${kind}:${tokenId}`. */
export function budgetKey(credential: BudgetCredential): string {
  return `${credential.kind ?? 'session'}:${credential.tokenId}`
}

/** The policy names of the RateLimit headers, one per bound. */
export const POLICY = { hourly: 'hourly', burst: 'burst', requests: 'concurrent-requests', streams: 'concurrent-streams' } as const
export type PolicyName = (typeof POLICY)[keyof typeof POLICY]

/** What an operation takes a lease on: a query or mutation (`request`), or a subscription (`stream`). */
export type LeaseKind = 'request' | 'stream'

/** How long a lease lives in Redis without renewal, ms; this process renews its own every third of it. */
export const LEASE_TTL_MS = 30_000

/** An operation let through: its state for the RateLimit headers, and the lease to give back when it ends. */
export interface BudgetGrant {
  allowed: true
  /** Points charged to the hourly bucket. */
  cost: number
  /** RateLimit items: the hourly and burst buckets after this operation, and the lease's bound. */
  limits: ServiceLimit[]
  /** Ends the lease (idempotent). */
  release(): void
}

/** An operation refused: which bound, when to retry, and the RateLimit item of that bound (r: what is left; t: when more comes). */
export interface BudgetRefusal {
  allowed: false
  /** `cost`: the operation costs more than a whole hour's budget (retrying cannot help). */
  policy: PolicyName | 'cost'
  message: string
  /** Whole seconds, at least 1: when the refused bound has room again (leases: a guess, 1 s). */
  retryAfterSeconds: number
  cost: number
  limits: ServiceLimit[]
}

export type BudgetDecision = BudgetGrant | BudgetRefusal

/** A bucket's state after a consume: points still available and ms until its window ends. */
interface BucketState {
  allowed: boolean
  remaining: number
  msBeforeNext: number
}

/** Where the leases are counted: Redis (shared) or this process. */
interface LeaseStore {
  /** Takes a lease under `cap`, or says how many there are. */
  acquire(key: string, cap: number): Promise<{ acquired: boolean; count: number; release(): void }>
  close(): Promise<void>
}

/** Leases counted in this process. */
class MemoryLeases implements LeaseStore {
  private readonly counts = new Map<string, number>()

  acquire(key: string, cap: number) {
    const count = this.counts.get(key) ?? 0
    if (count >= cap) return Promise.resolve({ acquired: false, count, release: () => {} })
    this.counts.set(key, count + 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      const left = (this.counts.get(key) ?? 1) - 1
      if (left > 0) this.counts.set(key, left)
      else this.counts.delete(key)
    }
    return Promise.resolve({ acquired: true, count: count + 1, release })
  }

  /** Leases held for `key` (tests). */
  count(key: string): number {
    return this.counts.get(key) ?? 0
  }

  close() {
    return Promise.resolve()
  }
}

/** Drops expired leases, counts the rest and adds ours when under the cap: {1|0, count}. Scores are Redis's clock (TIME), in ms. */
const ACQUIRE_LEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[2]) then return {0, count} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, count + 1}
`
/** Pushes the expiry of leases still held (ARGV[2..]) to now + ARGV[1] ms; a lease already dropped is not re-added (XX). */
const RENEW_LEASES = `
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`

type LeaseRedis = Redis & {
  budgetAcquireLease(key: string, member: string, cap: number, ttlMs: number): Promise<[number, number]>
  budgetRenewLeases(key: string, ttlMs: number, ...members: string[]): Promise<number>
}

/**
 * Leases in Redis sorted sets (`<prefix>:lease:<key>`), shared by every process. This process renews
 * the leases it holds every third of {@link LEASE_TTL_MS}. While Redis fails, a lease is taken in
 * this process instead (`fallback`), so an outage bounds per process rather than refusing.
 */
class RedisLeases implements LeaseStore {
  private readonly held = new Map<string, Set<string>>()
  private readonly timer: NodeJS.Timeout
  private readonly redis: LeaseRedis

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly fallback: MemoryLeases,
    private readonly onError: (error: unknown) => void,
    private readonly ttlMs: number,
  ) {
    redis.defineCommand('budgetAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE })
    redis.defineCommand('budgetRenewLeases', { numberOfKeys: 1, lua: RENEW_LEASES })
    this.redis = redis as LeaseRedis
    this.timer = setInterval(() => this.renew(), ttlMs / 3)
    this.timer.unref()
  }

  async acquire(key: string, cap: number) {
    const redisKey = `${this.prefix}:lease:${key}`
    const member = randomUUID()
    let reply: [number, number]
    try {
      reply = await this.redis.budgetAcquireLease(redisKey, member, cap, this.ttlMs)
    } catch (error) {
      this.onError(error)
      return this.fallback.acquire(key, cap)
    }
    const [acquired, count] = reply
    if (acquired !== 1) return { acquired: false, count, release: () => {} }
    const members = this.held.get(redisKey) ?? new Set<string>()
    members.add(member)
    this.held.set(redisKey, members)
    let released = false
    const release = () => {
      if (released) return
      released = true
      members.delete(member)
      if (members.size === 0) this.held.delete(redisKey)
      // Not awaited: the answer does not wait on it. Lost (Redis away), the lease expires within LEASE_TTL_MS.
      this.redis.zrem(redisKey, member).catch(this.onError)
    }
    return { acquired: true, count, release }
  }

  private renew(): void {
    for (const [redisKey, members] of this.held) {
      if (members.size > 0) this.redis.budgetRenewLeases(redisKey, this.ttlMs, ...members).catch(this.onError)
    }
  }

  async close() {
    clearInterval(this.timer)
    await Promise.all(
      [...this.held].map(([redisKey, members]) => (members.size > 0 ? this.redis.zrem(redisKey, ...members).catch(() => 0) : 0)),
    )
    this.held.clear()
  }
}

export interface CredentialBudgetsOptions {
  limits: PartnerBudgets
  /** Shared budgets on this connection (its commands should fail fast when it is down: `enableOfflineQueue: false`). */
  redis?: Redis | undefined
  /** Prefix of the Redis keys (default `budget`); tests give each run its own. */
  keyPrefix?: string
  /** Told of Redis errors (the budgets then fall back to this process's). */
  onRedisError?: (error: unknown) => void
  /** Called by close() after the leases are dropped (the owner of `redis` closes it there). */
  onClose?: () => Promise<void>
  /** How long a Redis lease lives unrenewed (default {@link LEASE_TTL_MS}; tests shorten it). */
  leaseTtlMs?: number
  /** Resolves once the store can be shared (Redis connected), or when waiting longer is pointless. */
  ready?: () => Promise<void>
}

/**
 * The partner budgets: {@link CredentialBudgets.admit} decides an operation, {@link CredentialBudgets.peek}
 * reads a credential's buckets without spending, {@link CredentialBudgets.policies} lists the policies
 * for the RateLimit-Policy header.
 */
export class CredentialBudgets {
  readonly limits: PartnerBudgets
  private readonly hourly: RateLimiterAbstract
  private readonly burst: RateLimiterAbstract
  private readonly leases: LeaseStore
  /** The in-process leases (the store without Redis, the fallback with it). */
  readonly localLeases = new MemoryLeases()

  private readonly onClose: () => Promise<void>
  /**
   * Resolves once the budgets are shared (Redis connected; at once in-process, or after a few seconds
   * of Redis not answering): app.start() waits for it, so that a process does not begin with budgets
   * of its own while its connection is still opening.
   */
  readonly ready: () => Promise<void>

  constructor({ limits, redis, keyPrefix = 'budget', onRedisError = () => {}, onClose = () => Promise.resolve(), leaseTtlMs = LEASE_TTL_MS, ready = () => Promise.resolve() }: CredentialBudgetsOptions) {
    this.limits = limits
    this.onClose = onClose
    this.ready = ready
    const hourly = { points: limits.pointsPerHour, duration: HOUR_MS / 1000 }
    const burst = { points: limits.burstPoints, duration: limits.burstSeconds }
    if (redis) {
      const store = (options: { points: number; duration: number }, name: string) =>
        new RateLimiterRedis({
          ...options,
          storeClient: redis,
          keyPrefix: `${keyPrefix}:${name}`,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: `${keyPrefix}:${name}` }),
        })
      this.hourly = store(hourly, 'hourly')
      this.burst = store(burst, 'burst')
      this.leases = new RedisLeases(redis, keyPrefix, this.localLeases, onRedisError, leaseTtlMs)
    } else {
      this.hourly = new RateLimiterMemory({ ...hourly, keyPrefix: `${keyPrefix}:hourly` })
      this.burst = new RateLimiterMemory({ ...burst, keyPrefix: `${keyPrefix}:burst` })
      this.leases = this.localLeases
    }
  }

  /** The quota policies, in the order of the RateLimit-Policy header (the same for every answer). */
  policies(): QuotaPolicy[] {
    return [
      { name: POLICY.hourly, quota: this.limits.pointsPerHour, windowSeconds: HOUR_MS / 1000 },
      { name: POLICY.burst, quota: this.limits.burstPoints, windowSeconds: this.limits.burstSeconds },
      { name: POLICY.requests, quota: this.limits.concurrentRequests, unit: 'concurrent-requests' },
      { name: POLICY.streams, quota: this.limits.concurrentStreams, unit: 'concurrent-requests' },
    ]
  }

  /**
   * Decides an operation of `credential` costing `cost` (its operationCost; at least 1 is charged)
   * that takes a `kind` lease. Granted: the cost is spent from both buckets and a lease is held until
   * `release()`. Refused: nothing is spent and no lease is held. The lease and both buckets are asked
   * at once (one round trip to Redis); what a refusal took is given back.
   * @throws what the store throws other than a refusal (Redis errors fall back to this process instead).
   */
  async admit(credential: BudgetCredential, cost: number, kind: LeaseKind): Promise<BudgetDecision> {
    const key = budgetKey(credential)
    const charged = Math.max(1, Math.ceil(cost))
    if (charged > this.limits.pointsPerHour) {
      return {
        allowed: false,
        policy: 'cost',
        message: `The operation costs ${charged} points, more than the whole hourly budget of ${this.limits.pointsPerHour}.`,
        retryAfterSeconds: 0,
        cost: charged,
        limits: [],
      }
    }
    const burstCharge = Math.min(charged, this.limits.burstPoints)
    const cap = kind === 'request' ? this.limits.concurrentRequests : this.limits.concurrentStreams
    const leaseName = kind === 'request' ? POLICY.requests : POLICY.streams
    const [lease, hourly, burst] = await Promise.all([
      this.leases.acquire(`${kind}:${key}`, cap),
      consume(this.hourly, key, charged),
      consume(this.burst, key, burstCharge),
    ])
    const leaseLimit = { name: leaseName, remaining: Math.max(0, cap - lease.count) }
    const limits = (h: BucketState, b: BucketState): ServiceLimit[] => [
      { name: POLICY.hourly, remaining: h.remaining, resetSeconds: secondsUntil(h.msBeforeNext) },
      { name: POLICY.burst, remaining: b.remaining, resetSeconds: secondsUntil(b.msBeforeNext) },
      leaseLimit,
    ]
    if (lease.acquired && hourly.allowed && burst.allowed) return { allowed: true, cost: charged, limits: limits(hourly, burst), release: lease.release }
    lease.release()
    // A refused operation spends nothing: each bucket gets back what this call added (rate-limiter-flexible counts refusals too).
    await Promise.all([this.hourly.reward(key, charged).catch(() => {}), this.burst.reward(key, burstCharge).catch(() => {})])
    const after = (state: BucketState, taken: number): BucketState =>
      state.allowed ? { ...state, remaining: state.remaining + taken } : state
    const [h, b] = [after(hourly, charged), after(burst, burstCharge)]
    if (!hourly.allowed) {
      return refusal('hourly', `Over the hourly budget: the operation costs ${charged} of ${hourly.remaining} points left this hour.`, hourly, charged, limits(h, b))
    }
    if (!burst.allowed) {
      return refusal('burst', `Over the burst budget: the operation takes ${burstCharge} of ${burst.remaining} points left in this ${this.limits.burstSeconds} s window.`, burst, charged, limits(h, b))
    }
    return {
      allowed: false,
      policy: leaseName,
      message: `At most ${cap} ${kind === 'request' ? 'requests (queries, mutations, exports and imports)' : 'subscriptions'} of one credential run at once; retry when one has finished.`,
      retryAfterSeconds: 1,
      cost: charged,
      limits: [{ name: leaseName, remaining: 0 }],
    }
  }

  /** The buckets of `credential` without spending (answers refused before execution still carry them). */
  async peek(credential: BudgetCredential): Promise<ServiceLimit[]> {
    const key = budgetKey(credential)
    const [hourly, burst] = await Promise.all([this.hourly.get(key).catch(() => null), this.burst.get(key).catch(() => null)])
    const state = (res: RateLimiterRes | null, points: number, windowMs: number) => ({
      remaining: res ? Math.max(0, points - res.consumedPoints) : points,
      resetSeconds: secondsUntil(res ? res.msBeforeNext : windowMs),
    })
    return [
      { name: POLICY.hourly, ...state(hourly, this.limits.pointsPerHour, HOUR_MS) },
      { name: POLICY.burst, ...state(burst, this.limits.burstPoints, this.limits.burstSeconds * 1000) },
    ]
  }

  /** Stops renewing leases and drops those this process holds, then `onClose` (the connection's owner closes it). */
  async close(): Promise<void> {
    await this.leases.close()
    await this.onClose()
  }
}

/**
 * The server's budgets: shared through a Redis connection of their own when `redisUrl` is set (its
 * commands fail at once while it is down, so the budgets fall back to this process's instead of
 * waiting), in-process otherwise. `logger` hears of Redis errors, at most one warning a minute.
 */
export function createCredentialBudgets(options: {
  limits: PartnerBudgets
  redisUrl?: string | undefined
  logger: { warn(object: object, message: string): void }
  keyPrefix?: string
  leaseTtlMs?: number
}): CredentialBudgets {
  if (!options.redisUrl) return new CredentialBudgets({ limits: options.limits, ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}) })
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'partner-budgets' })
  let warnedAt = -Infinity
  let closed = false
  const onRedisError = (error: unknown) => {
    // Releases still on their way when the server stops fail with "Connection is closed": nothing to tell.
    if (closed || Date.now() - warnedAt < 60_000) return
    warnedAt = Date.now()
    options.logger.warn({ err: error }, 'partner budgets: Redis failed; each process keeps its own budgets meanwhile')
  }
  // Without a listener ioredis prints every connection error; they are told (rate-limited) here instead.
  redis.on('error', onRedisError)
  const connected = new Promise<void>((resolve) => {
    if (redis.status === 'ready') resolve()
    redis.once('ready', () => resolve())
    // Redis not answering: the budgets start in-process (as during an outage) rather than holding the start.
    setTimeout(resolve, REDIS_PING_TIMEOUT_MS).unref()
  })
  return new CredentialBudgets({
    limits: options.limits,
    redis,
    onRedisError,
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}),
    ready: () => connected,
    onClose: async () => {
      closed = true
      await redis.quit().catch(() => redis.disconnect())
    },
  })
}

/** A consume as a state, refusal included; the points this consume added count in `remaining` only when allowed. */
async function consume(limiter: RateLimiterAbstract, key: string, points: number): Promise<BucketState> {
  try {
    const res = await limiter.consume(key, points)
    return { allowed: true, remaining: res.remainingPoints, msBeforeNext: res.msBeforeNext }
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection
    // Refused: what was there before this consume added its points (they are given back).
    return { allowed: false, remaining: Math.max(0, limiter.points - (rejection.consumedPoints - points)), msBeforeNext: rejection.msBeforeNext }
  }
}

/** A bucket's refusal; its RateLimit item alone, so that Retry-After is never earlier than the `t` of an item sent with it (the draft's section 6). */
function refusal(policy: PolicyName, message: string, state: BucketState, cost: number, limits: ServiceLimit[]): BudgetRefusal {
  return { allowed: false, policy, message, retryAfterSeconds: Math.max(1, secondsUntil(state.msBeforeNext)), cost, limits: limits.filter((limit) => limit.name === policy) }
}
