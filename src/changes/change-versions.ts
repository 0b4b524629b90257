/**
 * Per-user change versions on this process. A user's version moves on every change notice of the user
 * this process sees: a local write synchronously (the announcer, changes/announce.ts), another process's
 * when its notice arrives over Redis (pubsub/changes.ts `watchAllUsers`). What was read, or a walk that
 * started, at one version is current only while the user's version is still the same: the caches of the
 * engine (suggestions/engine-caches.ts) store a read only if no change came while it ran, and a
 * subscriber joins a shared walk (suggestions/walk-sharing.ts) only if no change came since it started.
 *
 * Bounded: users are kept in an LRU of {@link DEFAULT_TRACKED_USERS}. A user dropped from it comes back
 * at the highest version ever dropped (`floor`), never at a version it had before a change: a dropped
 * user may see a change that did not happen (a cache miss), never miss one that did.
 */
import { LRUCache } from 'lru-cache'

/**
 * Users whose version is kept. Every user that has a cache entry or a walk in this process reads its
 * version, so this should exceed the users the caches hold (TIMEZONE_CACHE_USERS, 10,000 by default);
 * an entry is a key and a number, about 150 bytes: 50,000 users are about 7.5 MB at most.
 */
export const DEFAULT_TRACKED_USERS = 50_000

export class ChangeVersions {
  /** The last version handed out; every bump takes the next one, so versions never repeat. */
  private counter = 0
  /** The version of a user not in `versions`: at least that of every user dropped from it. */
  private floor = 0
  private readonly versions: LRUCache<string, number>
  private readonly listeners = new Set<(userId: string | undefined) => void>()
  private reliable = true

  constructor(maxUsers = DEFAULT_TRACKED_USERS) {
    this.versions = new LRUCache<string, number>({
      max: maxUsers,
      dispose: (version, _userId, reason) => {
        if (reason === 'evict') this.floor = Math.max(this.floor, version)
      },
    })
  }

  /** The user's version now. */
  current(userId: string): number {
    const version = this.versions.get(userId)
    if (version !== undefined) return version
    // Kept from now on, so that later reads agree while nothing changes (setting may drop another user and raise the floor).
    const floor = this.floor
    this.versions.set(userId, floor)
    return floor
  }

  /** A change notice of the user: a new version, and the listeners told (synchronously). */
  bump(userId: string): void {
    this.versions.set(userId, ++this.counter)
    for (const listener of this.listeners) listener(userId)
  }

  /** Every user changes version (notices may have been lost); listeners are told with `undefined`. */
  bumpAll(): void {
    this.floor = ++this.counter
    this.versions.clear()
    for (const listener of this.listeners) listener(undefined)
  }

  /**
   * Whether every change notice reaches this process now. False while the Redis connection that
   * carries them is down or not yet subscribed: caches then neither serve nor store. Either way
   * every version moves, so nothing read before the gap is served after it.
   */
  get trusted(): boolean {
    return this.reliable
  }

  /** Says whether notices are delivered from now on (see {@link trusted}); every version moves. */
  setTrusted(reliable: boolean): void {
    this.reliable = reliable
    this.bumpAll()
  }

  /** Calls `listener` on every bump: with the user, or `undefined` for every user. Returns the unsubscriber. */
  onBump(listener: (userId: string | undefined) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
