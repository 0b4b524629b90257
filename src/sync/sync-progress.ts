/**
 * The `syncProgress(accountId)` stream: the account as it is now, then the account again with each
 * progress notice its sync publishes (pubsub/changes.ts `publishSyncProgress`, from whichever process
 * runs it). Scoped to the viewer: another user's or an unknown account is NOT_FOUND before anything
 * is sent. Follows one run: ends right after the run's `finished` event (a client asked for "the
 * progress of a sync" and needs no other end-of-run signal; a later run is a new subscription), and
 * also when the account is disconnected, or when the client leaves.
 */
import { findAccount, type AccountView } from '../accounts/accounts.ts'
import { notFound } from '../errors.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { syncProgressNotices, type ChangePubSub, type SyncProgressNotice } from '../pubsub/changes.ts'

/** One event of the stream: the account now, and what moved (`phase: 'current'` for the first event). */
export interface SyncProgressEvent {
  account: AccountView
  phase: SyncProgressNotice['phase'] | 'current'
  collectionUrl: string | null
  done: number
  total: number | null
}

/** The stream of `accountId`'s progress for `userId` (see the module comment); rejects NOT_FOUND. */
export async function syncProgressStream(prisma: PrismaClient, pubsub: ChangePubSub, userId: string, accountId: string): Promise<AsyncIterableIterator<SyncProgressEvent>> {
  const notices = syncProgressNotices(pubsub, accountId)[Symbol.asyncIterator]()
  // Listening before the first read: a notice published in between is not missed.
  let pending = notices.next()
  let ended = false
  const end = async (): Promise<IteratorResult<SyncProgressEvent>> => {
    if (!ended) {
      ended = true
      await notices.return?.()
    }
    return { done: true, value: undefined }
  }
  let first: AccountView | null
  try {
    first = await findAccount(prisma, userId, accountId)
  } catch (error) {
    await end()
    throw error
  }
  if (!first) {
    await end()
    throw notFound('account')
  }
  let initial: SyncProgressEvent | undefined = { account: first, phase: 'current', collectionUrl: null, done: 0, total: null }
  const iterator: AsyncIterableIterator<SyncProgressEvent> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (initial) {
        const event = initial
        initial = undefined
        return { done: false, value: event }
      }
      if (ended) return { done: true, value: undefined }
      const notice = await pending
      if (notice.done || ended) return end()
      pending = notices.next()
      const account = await findAccount(prisma, userId, accountId)
      if (!account) return end()
      // The run is over: stop listening now (the pubsub listener goes at once), send this last event.
      if (notice.value.phase === 'finished') await end()
      return { done: false, value: { account, ...notice.value } }
    },
    return: end,
  }
  return iterator
}
