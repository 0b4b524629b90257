/**
 * What the engine reads of a user besides contacts, cached per user on this process: the time zone,
 * the free time over the horizon (availability minus calendar events) and the stored statuses
 * (dismissed, snoozed, accepted, with the interactions that end acceptances). Each cache is an LRU
 * (lru-cache) bounded from config, its entries tagged with the user's change version
 * (changes/change-versions.ts): an entry is served only at the version it was read at, and a read
 * during which a change came is not stored. A local write moves the version synchronously (the
 * announcer), another process's write when its notice arrives over Redis.
 *
 * Caching does not change results: what depends on the time is computed from the cached rows at each
 * walk's `now` (free slots clipped to `[now, now + horizon)`, statuses filtered at `now`), and an
 * entry serves only the times it can answer exactly (see `usable` of each).
 */
import { LRUCache } from 'lru-cache'
import type { ChangeVersions } from '../changes/change-versions.ts'
import type { CacheSizes } from '../config.ts'
import { cutSlots, type Interval } from '../calendar/free-slots.ts'
import { loadFreeStretches, userTimezone } from '../calendar/load-free-slots.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { DAY_MS, HOUR_MS } from '../time.ts'
import { loadSuggestionStateRows, suggestionStateAt, type SuggestionState, type SuggestionStateRows } from './suggestion-status.ts'

/**
 * A per-user cache whose entries hold only while the user's change version is the one they were
 * read at. Disabled (every read loads) with a size of 0.
 */
export class UserCache<V extends object> {
  private readonly entries: LRUCache<string, { version: number; value: V }> | undefined

  /**
   * @param size `max` entries, or `maxSize` in the units of `sizeOf` (each entry at least 1); 0: no cache.
   */
  constructor(
    private readonly versions: ChangeVersions,
    size: { max: number } | { maxSize: number; sizeOf: (value: V) => number },
  ) {
    if ('max' in size ? size.max === 0 : size.maxSize === 0) return
    this.entries =
      'max' in size
        ? new LRUCache({ max: size.max })
        : new LRUCache({ maxSize: size.maxSize, sizeCalculation: (entry) => Math.max(1, Math.ceil(size.sizeOf(entry.value))) })
    versions.onBump((userId) => (userId === undefined ? this.entries?.clear() : this.entries?.delete(userId)))
  }

  /**
   * The user's cached value when it was read at the user's current version and `usable` accepts it;
   * otherwise `load()`'s, stored when no change of the user came while it ran (and notices are reliable).
   * Rejects with `load`'s error (nothing stored).
   */
  async get(userId: string, load: () => Promise<V>, usable: (value: V) => boolean = () => true): Promise<V> {
    const version = this.versions.current(userId)
    const entry = this.entries?.get(userId)
    if (entry && entry.version === version && this.versions.trusted && usable(entry.value)) return entry.value
    const value = await load()
    // A read that started before a change may have read the old data: not stored as fresh.
    if (this.entries && this.versions.trusted && this.versions.current(userId) === version) this.entries.set(userId, { version, value })
    return value
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries?.size ?? 0
  }
}

/**
 * How much longer than the horizon the free time is read: an entry serves every walk for this long
 * after it was read (then the horizon has moved past what it covers). An hour: a user's walks in a
 * morning rush share one read, and the extra hour of calendar events is a few rows.
 */
export const FREE_TIME_SLACK_MS = HOUR_MS

/** Free time read at `from` (ms) over `[from, to)` in `timezone`. */
interface FreeTime {
  from: number
  to: number
  timezone: string
  stretches: Float64Array
}

/**
 * The engine's per-user reads, cached: pass them as `EngineDependencies.userTimezone`, `defaultSlots`
 * and `suggestionState` (generator.ts).
 *
 * @param horizonDays how far ahead free slots are looked for (SUGGESTION_HORIZON_DAYS).
 * @param dismissForMs how long a dismissal (and a slot-less acceptance at most) lasts, in ms.
 */
export function createEngineCaches({
  prisma,
  versions,
  sizes,
  horizonDays,
  dismissForMs,
}: {
  prisma: PrismaClient
  versions: ChangeVersions
  /** From config (TIMEZONE_CACHE_USERS, FREE_TIME_CACHE_BYTES, SUGGESTION_STATE_CACHE_ROWS). */
  sizes: CacheSizes
  horizonDays: number
  dismissForMs: number
}) {
  const horizonMs = horizonDays * DAY_MS
  const timezones = new UserCache<{ timezone: string }>(versions, { max: sizes.timezoneUsers })
  const freeTime = new UserCache<FreeTime>(versions, { maxSize: sizes.freeTimeBytes, sizeOf: (entry) => 64 + entry.stretches.byteLength })
  const statuses = new UserCache<SuggestionStateRows>(versions, { maxSize: sizes.suggestionStateRows, sizeOf: (entry) => entry.rows.length })

  return {
    /** The user's IANA time zone. Rejects when the user does not exist. */
    async userTimezone(userId: string): Promise<string> {
      const { timezone } = await timezones.get(userId, async () => ({ timezone: await userTimezone(prisma, userId) }))
      return timezone
    },

    /** The user's free slots over `[now, now + horizon)` in `timezone`: availability minus calendar events. */
    async defaultSlots(userId: string, now: Date, timezone: string): Promise<Interval[]> {
      const at = now.getTime()
      const to = at + horizonMs
      const entry = await freeTime.get(
        userId,
        async () => {
          const until = to + FREE_TIME_SLACK_MS
          return { from: at, to: until, timezone, stretches: await loadFreeStretches(prisma, userId, now, new Date(until), timezone) }
        },
        (cached) => cached.timezone === timezone && cached.from <= at && to <= cached.to,
      )
      return cutSlots(entry.stretches, timezone, now, new Date(to))
    },

    /** The statuses in force at `now`. */
    async suggestionState(userId: string, now: Date): Promise<SuggestionState> {
      const rows = await statuses.get(
        userId,
        () => loadSuggestionStateRows(prisma, userId, now, dismissForMs),
        (cached) => cached.loadedAt <= now.getTime(),
      )
      return suggestionStateAt(rows, now, dismissForMs)
    },

    /** Users each cache holds now (for tests). */
    sizes: () => ({ timezones: timezones.size, freeTime: freeTime.size, statuses: statuses.size }),
  }
}

export type EngineCaches = ReturnType<typeof createEngineCaches>

