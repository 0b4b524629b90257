/**
 * Re-checks the tokens that long-lived streams run on. A graphql-ws socket or an
 * SSE subscription authenticates once; without this, it would keep receiving
 * data after its token is revoked (on any process: the database is the truth)
 * or expires. One periodic query per process covers every watched token, in
 * batches of {@link CHECK_BATCH_SIZE}; nothing is queried while nothing is watched.
 * Expiry is also scheduled locally from `expiresAt`, so it ends streams on time.
 * Tokens live in the `AuthToken` table unless their credential's kind has a reader of its own
 * (`readers`, e.g. OAuth grants: src/oauth/grant-states.ts).
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import type { Credential } from './authenticate.ts'

/** Token ids per query of a check (one query for up to this many tokens). */
export const CHECK_BATCH_SIZE = 1000

/** Node's timers overflow past this delay (about 24.8 days); later expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** What the database holds of a watched token. */
export interface TokenState {
  id: string
  revokedAt: Date | null
  expiresAt: Date | null
}

/**
 * Pure: which of the `watched` token ids are dead at `now` given their `rows`
 * (missing: deleted, e.g. with their user; revoked; or expired).
 */
export function deadTokenIds(watched: Iterable<string>, rows: readonly TokenState[], now: Date): string[] {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const dead: string[] = []
  for (const id of watched) {
    const row = byId.get(id)
    if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) dead.push(id)
  }
  return dead
}

/**
 * Reads what the database holds of some watched tokens of one credential kind (`ids`: their credentials'
 * `tokenId`s, at most {@link CHECK_BATCH_SIZE}); a token missing from the answer is dead.
 */
export type TokenStateReader = (ids: string[]) => Promise<TokenState[]>

interface Watched {
  /** Which reader checks it: the credential's kind. */
  kind: string
  expiresAt: Date | null
  listeners: Set<() => void>
  timer?: ReturnType<typeof setTimeout> | undefined
}

/**
 * Calls each stream's `onEnd` once when its token dies. Holds one timer per
 * process (the periodic check, stopped while nothing is watched) and one per
 * token with an expiry.
 */
export class TokenWatch {
  private readonly tokens = new Map<string, Watched>()
  private interval: ReturnType<typeof setInterval> | undefined
  private checking: Promise<void> | undefined
  private stopped = false
  private readonly prisma: PrismaClient
  private readonly intervalMs: number
  private readonly now: () => Date
  private readonly logger: Logger | undefined
  private readonly broadcast: ((tokenId: string) => void) | undefined
  private readonly readers: Readonly<Record<string, TokenStateReader>>

  constructor(options: {
    prisma: PrismaClient
    /**
     * Period of the batched check (ms): how long another process's revocation may take to end a stream
     * when its broadcast is lost (or there is none).
     */
    intervalMs: number
    now?: () => Date
    logger?: Logger
    /**
     * Tells the other processes that this one revoked a token (app.ts: the `token-revoked` topic of the
     * change bus, over Redis when configured); they call {@link revokedElsewhere}.
     */
    broadcast?: (tokenId: string) => void
    /** Readers of the credential kinds whose tokens are not `AuthToken` rows (by kind, e.g. `oauth`). */
    readers?: Readonly<Record<string, TokenStateReader>>
  }) {
    this.prisma = options.prisma
    this.intervalMs = options.intervalMs
    this.now = options.now ?? (() => new Date())
    this.logger = options.logger
    this.broadcast = options.broadcast
    this.readers = options.readers ?? {}
  }

  /**
   * Watches `credential`'s token: `onEnd` runs once, soon after it is revoked,
   * deleted or expires (at once, asynchronously, when it already has). Returns
   * the function that stops watching (call it when the stream ends otherwise).
   */
  watch(credential: Credential, onEnd: () => void): () => void {
    let ended = false
    const listener = () => {
      if (ended) return
      ended = true
      onEnd()
    }
    // Stopped: the server is shutting down and its transports cut every stream themselves.
    if (this.stopped) return () => {}
    if (credential.expiresAt !== null && credential.expiresAt <= this.now()) {
      queueMicrotask(listener)
      return () => void (ended = true)
    }
    let entry = this.tokens.get(credential.tokenId)
    if (!entry) {
      entry = { kind: credential.kind, expiresAt: credential.expiresAt, listeners: new Set() }
      this.tokens.set(credential.tokenId, entry)
      this.scheduleExpiry(credential.tokenId, entry)
    }
    entry.listeners.add(listener)
    this.interval ??= setInterval(() => void this.check(), this.intervalMs).unref()
    return () => {
      ended = true
      const current = this.tokens.get(credential.tokenId)
      if (!current?.listeners.delete(listener) || current.listeners.size > 0) return
      clearTimeout(current.timer)
      this.tokens.delete(credential.tokenId)
      this.idleWhenEmpty()
    }
  }

  /**
   * Ends every stream on the token now (this process revoked it) and broadcasts the revocation, so
   * other processes end theirs at once too (without a broadcast, or when it is lost, they see it at
   * their next check). Deferred a turn, so a response under way on the same connection (e.g. the
   * `revokeToken` result) goes out first.
   */
  revoked(tokenId: string): void {
    setImmediate(() => this.end(tokenId))
    try {
      this.broadcast?.(tokenId)
    } catch (error) {
      this.logger?.warn({ err: error, tokenId }, 'token revocation not broadcast; other processes see it at their next check')
    }
  }

  /** Ends every stream on the token now: another process revoked it (its broadcast). Deferred a turn, as {@link revoked}. */
  revokedElsewhere(tokenId: string): void {
    setImmediate(() => this.end(tokenId))
  }

  /**
   * Reads the watched tokens from the database (one query per
   * {@link CHECK_BATCH_SIZE}) and ends the streams of the dead ones. A failed
   * read is logged and retried at the next tick; streams stay open meanwhile
   * (a database outage must not cut every stream). Concurrent calls share one check.
   */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => (this.checking = undefined))
    return this.checking
  }

  /** Tokens watched now (for tests and metrics). */
  get size(): number {
    return this.tokens.size
  }

  /** Stops every timer; streams are left to the transports' own shutdown, and later `watch` calls do nothing. */
  stop(): void {
    this.stopped = true
    clearInterval(this.interval)
    this.interval = undefined
    for (const entry of this.tokens.values()) clearTimeout(entry.timer)
    this.tokens.clear()
  }

  private async runCheck(): Promise<void> {
    const idsByReader = new Map<TokenStateReader, string[]>()
    for (const [id, entry] of this.tokens) {
      const reader = this.readers[entry.kind] ?? this.readAuthTokens
      idsByReader.set(reader, [...(idsByReader.get(reader) ?? []), id])
    }
    for (const [reader, ids] of idsByReader) if (!(await this.checkWith(reader, ids))) return
  }

  private readonly readAuthTokens: TokenStateReader = (ids) =>
    this.prisma.authToken.findMany({ where: { id: { in: ids } }, select: { id: true, revokedAt: true, expiresAt: true } })

  /** Checks `ids` with `reader` in batches; false when a read failed (the check stops until the next tick). */
  private async checkWith(reader: TokenStateReader, ids: string[]): Promise<boolean> {
    for (let start = 0; start < ids.length; start += CHECK_BATCH_SIZE) {
      const batch = ids.slice(start, start + CHECK_BATCH_SIZE)
      let rows: TokenState[]
      try {
        rows = await reader(batch)
      } catch (error) {
        this.logger?.warn({ err: error, tokens: batch.length }, 'token re-check failed; streams stay open until the next one')
        return false
      }
      for (const id of deadTokenIds(batch, rows, this.now())) this.end(id)
      // An expiry changed in the database (e.g. shortened) is rescheduled here.
      for (const row of rows) {
        const entry = this.tokens.get(row.id)
        if (entry && entry.expiresAt?.getTime() !== row.expiresAt?.getTime()) {
          entry.expiresAt = row.expiresAt
          clearTimeout(entry.timer)
          this.scheduleExpiry(row.id, entry)
        }
      }
    }
    return true
  }

  private scheduleExpiry(tokenId: string, entry: Watched): void {
    if (entry.expiresAt === null) return
    const delay = entry.expiresAt.getTime() - this.now().getTime()
    entry.timer = setTimeout(() => {
      if (entry.expiresAt !== null && entry.expiresAt <= this.now()) this.end(tokenId)
      else this.scheduleExpiry(tokenId, entry)
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS)).unref()
  }

  private end(tokenId: string): void {
    const entry = this.tokens.get(tokenId)
    if (!entry) return
    clearTimeout(entry.timer)
    this.tokens.delete(tokenId)
    this.idleWhenEmpty()
    for (const listener of entry.listeners) {
      try {
        listener()
      } catch (error) {
        this.logger?.warn({ err: error }, 'ending a stream of a dead token failed')
      }
    }
  }

  private idleWhenEmpty(): void {
    if (this.tokens.size > 0) return
    clearInterval(this.interval)
    this.interval = undefined
  }
}
