/**
 * Per-user change notices: every write that can change a user's suggestions
 * publishes on the user's topic; live subscriptions listen there. graphql-yoga's
 * pubsub over an EventTarget: in-process by default, or over Redis pub/sub
 * (`@graphql-yoga/redis-event-target`, two ioredis connections, one of them
 * subscribing) so a write served by one process reaches subscribers on all.
 */
import { setMaxListeners } from 'node:events'
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { createPubSub, type PubSub } from 'graphql-yoga'
import { Redis } from 'ioredis'

/** What kind of data a write changed. */
export type ChangeKind = 'contact' | 'interaction' | 'group' | 'groups' | 'availability' | 'calendar' | 'suggestion'

export interface ChangeNotice {
  what: ChangeKind
}

/** The topic of a user's change notices; on the wire (and in `listenerCount`) `user-changed:<userId>`. */
export const USER_CHANGED = 'user-changed'

/**
 * The process-wide topic: every change notice of every user, carrying the user id, published just
 * before the user's own. Each process listens here once ({@link ChangeBus.watchAllUsers}) to drop
 * what it cached of the user: one subscription per process, where a subscription per cached user
 * would subscribe and unsubscribe with every entry the caches take and drop, and a read could be
 * stored before its subscription is confirmed (a notice in between would be missed).
 */
export const ANY_USER_CHANGED = 'any-user-changed'

/**
 * The topic of an import's progress (`import-progress:<importId>`): the job publishes after each
 * batch and when it ends, wherever it runs; `importProgress(id)` subscribers listen.
 */
export const IMPORT_PROGRESS = 'import-progress'

/** That an import moved: subscribers read the Import again (its owner's view of it). */
export interface ImportProgressNotice {
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED'
  done: number
}

/**
 * The topic of an account sync's progress (`sync-progress:<accountId>`): the sync job publishes as it
 * starts, as each collection moves, and as it ends, wherever it runs; `syncProgress(accountId)` subscribers listen.
 */
export const SYNC_PROGRESS = 'sync-progress'

/**
 * That an account's sync moved: `started` (the account is SYNCING), a collection's `listing` /
 * `reading` / `writing` / `done` with its items `done` of `total` (null: unknown), `finished` (the
 * account's status is final for this run). Subscribers read the Account again (its owner's view of it).
 */
export interface SyncProgressNotice {
  phase: 'started' | 'listing' | 'reading' | 'writing' | 'done' | 'finished'
  collectionUrl: string | null
  done: number
  total: number | null
}

/**
 * The process-wide topic of token revocations (session tokens and API keys, issue 16): the process
 * that revokes publishes, and every process ends the streams of that token at once (auth/token-watch.ts)
 * instead of at its next periodic check, which stays as the fallback (Redis pub/sub is at most once).
 */
export const TOKEN_REVOKED = 'token-revoked'

export type ChangePubSub = PubSub<{
  [USER_CHANGED]: [userId: string, notice: ChangeNotice]
  [ANY_USER_CHANGED]: [notice: { userId: string }]
  [IMPORT_PROGRESS]: [importId: string, notice: ImportProgressNotice]
  [SYNC_PROGRESS]: [accountId: string, notice: SyncProgressNotice]
  [TOKEN_REVOKED]: [notice: { tokenId: string }]
}>

/** Tells every process (this one too) that the token `tokenId` was revoked. */
export function publishTokenRevoked(pubsub: ChangePubSub, tokenId: string): void {
  pubsub.publish(TOKEN_REVOKED, { tokenId })
}

/**
 * Calls `onRevoked(tokenId)` for each revocation any process publishes (this one's too), from the
 * moment the subscription is in place, until the returned function is called. A failing
 * subscription is reported to `onError` once; the periodic re-check still covers revocations then.
 */
export function watchTokenRevocations(pubsub: ChangePubSub, onRevoked: (tokenId: string) => void, onError: (error: unknown) => void): () => void {
  const notices = pubsub.subscribe(TOKEN_REVOKED)
  void (async () => {
    try {
      for await (const notice of notices) {
        const tokenId = (notice as { tokenId?: unknown } | null)?.tokenId
        if (typeof tokenId === 'string') onRevoked(tokenId)
      }
    } catch (error) {
      onError(error)
    }
  })()
  return () => void notices.return().catch(() => {})
}

/** Tells `syncProgress` subscribers (on every process) that the sync of `accountId` moved. */
export function publishSyncProgress(pubsub: ChangePubSub, accountId: string, notice: SyncProgressNotice): void {
  pubsub.publish(SYNC_PROGRESS, accountId, notice)
}

/** The sync progress notices of `accountId` from now on, until the iterator is returned. */
export function syncProgressNotices(pubsub: ChangePubSub, accountId: string): AsyncIterable<SyncProgressNotice> {
  return pubsub.subscribe(SYNC_PROGRESS, accountId)
}

/** Tells `importProgress` subscribers (on every process) that `importId` moved. */
export function publishImportProgress(pubsub: ChangePubSub, importId: string, notice: ImportProgressNotice): void {
  pubsub.publish(IMPORT_PROGRESS, importId, notice)
}

/** The progress notices of `importId` from now on, until the iterator is returned. */
export function importProgressNotices(pubsub: ChangePubSub, importId: string): AsyncIterable<ImportProgressNotice> {
  return pubsub.subscribe(IMPORT_PROGRESS, importId)
}

/**
 * The path of a change, end to end: a domain write calls its `announce`
 * (`changes/announce.ts`), which publishes here ({@link publishChange}); each live
 * `suggestions` subscription listens through {@link ChangeBus.userChanges} (`suggestions/subscribe.ts`) and
 * re-walks (`suggestions/live.ts`) once per burst.
 */
export function publishChange(pubsub: ChangePubSub, userId: string, notice: ChangeNotice): void {
  // First the process-wide notice: a process drops its caches of the user before its live streams wake
  // (in-process both are dispatched synchronously in this order; Redis delivers the messages of one
  // publishing connection to a subscribing one in order).
  pubsub.publish(ANY_USER_CHANGED, { userId })
  pubsub.publish(USER_CHANGED, userId, notice)
}

/**
 * Where one user's change notices come from: `listen(onChange)` calls `onChange` synchronously with each
 * notice from now on, until the function it returns is called (calling that again does nothing).
 */
export type ChangeSource = (onChange: (notice: ChangeNotice) => void) => () => void

export interface ChangeBus {
  pubsub: ChangePubSub
  /**
   * The change notices of `userId`: one listener on the user's topic in this process while any of
   * them listens, fanned out to all (one per user, where a pubsub subscription per live stream
   * costs a Repeater, its queue and an event listener for each of a user's tabs).
   */
  userChanges(userId: string): ChangeSource
  /** Listeners on a topic (`user-changed:<userId>`) in this process: one per user with live streams; for tests and leak checks. */
  listenerCount(topic: string): number
  /**
   * Calls `watcher.changed(userId)` for every change notice of any user, from any process,
   * synchronously as it arrives (before the user's own subscribers get it). `watcher.reliable(false)`
   * when notices may be lost from now on (the Redis connection closed), `reliable(true)` once they are
   * delivered again (subscribed and confirmed). Resolves once notices are delivered.
   */
  watchAllUsers(watcher: { changed(userId: string): void; reliable(yes: boolean): void }): Promise<void>
  /** Closes the Redis connections (nothing in-process). */
  close(): Promise<void>
}

/**
 * In-process without `redisUrl`; over Redis with it. `connectionName` names the two Redis
 * connections (`<name>-publish`, `<name>-subscribe`) in `CLIENT LIST` (default `changes`).
 */
export function createChangeBus(options: { redisUrl?: string | undefined; connectionName?: string } = {}): ChangeBus {
  if (!options.redisUrl) {
    const eventTarget = new EventTarget()
    // Many listeners of one topic (e.g. an import's progress watched from several tabs) are normal.
    setMaxListeners(0, eventTarget)
    const counted = countingListeners(eventTarget)
    return {
      pubsub: createPubSub({ eventTarget: counted.target }),
      userChanges: userChangeFanout(counted.target),
      listenerCount: counted.count,
      watchAllUsers: async (watcher) => {
        listenToAllUsers(counted.target, watcher)
        watcher.reliable(true)
      },
      close: async () => {},
    }
  }
  const name = options.connectionName ?? 'changes'
  const publishClient = new Redis(options.redisUrl, { lazyConnect: false, connectionName: `${name}-publish` })
  const subscribeClient = new Redis(options.redisUrl, { lazyConnect: false, connectionName: `${name}-subscribe` })
  const counted = countingListeners(createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient }))
  return {
    pubsub: createPubSub({ eventTarget: counted.target }),
    userChanges: userChangeFanout(counted.target),
    listenerCount: counted.count,
    async watchAllUsers(watcher) {
      watcher.reliable(false)
      listenToAllUsers(counted.target, watcher)
      // Redis pub/sub is at most once: what is published while the connection is down is lost.
      // Notices count again once the channel is subscribed anew (ioredis resubscribes on reconnect;
      // this SUBSCRIBE, queued after it, is confirmed when it is).
      const confirm = () =>
        subscribeClient.subscribe(ANY_USER_CHANGED).then(
          () => lost || watcher.reliable(true),
          () => {}, // closing, or the connection dropped again: 'ready' comes back (or never, when closed)
        )
      let lost = false
      subscribeClient.on('close', () => {
        if (lost) return
        lost = true
        watcher.reliable(false)
      })
      subscribeClient.on('ready', () => {
        if (!lost) return
        lost = false
        void confirm()
      })
      await confirm()
    },
    async close() {
      await Promise.all([publishClient.quit(), subscribeClient.quit()].map((quit) => quit.catch(() => {})))
    },
  }
}

/**
 * {@link ChangeBus.userChanges} over `target`: per user one listener on `user-changed:<userId>`
 * (added with the user's first, removed with its last), calling each of the user's.
 */
function userChangeFanout(target: EventTarget): (userId: string) => ChangeSource {
  type Listener = { onChange: (notice: ChangeNotice) => void }
  const users = new Map<string, { listeners: Set<Listener>; dispatch: (event: Event) => void }>()
  return (userId) => (onChange) => {
    const topic = `${USER_CHANGED}:${userId}`
    let user = users.get(userId)
    if (!user) {
      const listeners = new Set<Listener>()
      // A copy: a listener that stops (or another that starts) while this runs changes the set.
      const dispatch = (event: Event) => {
        const notice = (event as CustomEvent<ChangeNotice>).detail
        for (const listener of [...listeners]) listener.onChange(notice)
      }
      users.set(userId, (user = { listeners, dispatch }))
      target.addEventListener(topic, dispatch)
    }
    const entry = user
    // Its own object: the same function passed twice is two listeners.
    const listener = { onChange }
    entry.listeners.add(listener)
    return () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return
      users.delete(userId)
      target.removeEventListener(topic, entry.dispatch)
    }
  }
}

/** Calls `watcher.changed` synchronously on every process-wide notice that reaches `target`. */
function listenToAllUsers(target: EventTarget, watcher: { changed(userId: string): void }): void {
  target.addEventListener(ANY_USER_CHANGED, (event) => {
    const userId = (event as CustomEvent<{ userId?: unknown } | null>).detail?.userId
    if (typeof userId === 'string') watcher.changed(userId)
  })
}

/** The same event target, counting its listeners per topic (neither Node's EventTarget nor the Redis one tells). */
function countingListeners<T extends EventTarget>(inner: T): { target: T; count: (topic: string) => number } {
  const counts = new Map<string, number>()
  const target = Object.create(inner) as T
  target.addEventListener = (type, listener, options) => {
    counts.set(type, (counts.get(type) ?? 0) + 1)
    inner.addEventListener(type, listener, options)
  }
  target.removeEventListener = (type, listener, options) => {
    const left = (counts.get(type) ?? 1) - 1
    if (left > 0) counts.set(type, left)
    else counts.delete(type)
    inner.removeEventListener(type, listener, options)
  }
  target.dispatchEvent = (event) => inner.dispatchEvent(event)
  return { target, count: (topic) => counts.get(topic) ?? 0 }
}
