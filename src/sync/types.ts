/**
 * What the sync of one collection needs and tells (issue 15): shared by contacts-sync.ts,
 * calendar-sync.ts and the job that runs an account's sync (run-sync.ts).
 */
import type { AnnounceChange } from '../changes/announce.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'

export interface SyncDeps {
  prisma: PrismaClient
  /** Told once per collection that changed anything (one coalesced live update, as imports do). */
  announce: AnnounceChange
  logger: Logger
  now: () => Date
  /** Progress as the sync goes (the `syncProgress` subscription, metrics). */
  onProgress?: ((progress: SyncProgress) => void) | undefined
  /** Aborted: the sync stops between pages (the job is idempotent and runs again). */
  signal?: AbortSignal | undefined
}

/** The account a collection belongs to, as the collection syncs need it. */
export interface SyncAccount {
  id: string
  userId: string
}

/** The collection row being synced (AccountCollection). */
export interface SyncCollection {
  id: string
  url: string
  syncToken: string | null
  ctag: string | null
}

export interface SyncProgress {
  accountId: string
  collectionUrl: string
  phase: 'listing' | 'reading' | 'writing' | 'done'
  /** Items handled so far in this collection. */
  done: number
  /** Items to handle, when known. */
  total: number | null
}

/** What one collection's sync did. */
export interface CollectionSyncResult {
  /** Objects read from the server (multiget / calendar-query). */
  read: number
  created: number
  updated: number
  /** Unchanged on the server or identical after mapping. */
  unchanged: number
  /** Contacts archived because their card was deleted on the server; events deleted. */
  removed: number
  /** Contacts brought back because their card came back. */
  restored: number
  /** Local edits written back (PUT with If-Match / If-None-Match). */
  written: number
  /** Fields changed on both sides (the server's value won; the local one is in a SyncConflict row). */
  conflicts: number
  /** HTTP requests made. */
  requests: number
  /** true: the sync token was missing, expired or refused, so every member was listed and compared by ETag. */
  fullResync: boolean
  /** The token stored for the next sync (null: the server has none). */
  syncToken: string | null
}

/** A {@link CollectionSyncResult} of nothing yet, with `syncToken` as given: what each collection sync starts from. */
export function emptySyncResult(syncToken: string | null = null): CollectionSyncResult {
  return { read: 0, created: 0, updated: 0, unchanged: 0, removed: 0, restored: 0, written: 0, conflicts: 0, requests: 0, fullResync: false, syncToken }
}
