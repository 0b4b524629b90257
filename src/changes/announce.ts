/**
 * The domain rule behind every write: "a write asks for the user's stored suggestions to be
 * regenerated and tells their live subscribers". The write functions (contacts, groups,
 * calendar, suggestion status) call an {@link AnnounceChange} themselves, so any caller (a
 * resolver, a future importer, a job, a CLI) announces what it changed.
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { ChangeVersions } from './change-versions.ts'
import type { Logger } from '../logger.ts'
import { publishChange, type ChangeKind, type ChangePubSub } from '../pubsub/changes.ts'

export type { ChangeKind }

/**
 * What exactly changed, for the webhooks (issue 17): a contact created, updated (with the names of the fields
 * given), archived, or an interaction logged. `data` is thin: ids (the API's global ids) and what changed, never
 * whole records. Writes that change many rows at once (imports, syncs, tag renames) announce no event.
 */
export interface ChangeEvent {
  type: 'contact.created' | 'contact.updated' | 'contact.archived' | 'interaction.logged'
  data: Record<string, unknown>
}

/** Tells that `userId`'s data changed (`what`, and optionally the event for webhooks); returns at once and never throws. */
export type AnnounceChange = (userId: string, what: ChangeKind, event?: ChangeEvent) => void

/**
 * Who regenerates stored suggestions: the job runner (`Jobs` in jobs/) fits it. Declared
 * here, not imported from jobs/, so this module (which every write imports) does not
 * lead back through the runner and the engine it runs.
 */
export interface RegenerationRequests {
  /** Regenerate `userId`'s stored suggestions soon; may reject (the queue is unreachable). */
  requestRegeneration(userId: string): Promise<void>
}

/** What a write function needs: the database, and who to tell about the change. */
export interface WriteDeps {
  prisma: PrismaClient
  announce: AnnounceChange
}

/**
 * The announcer of a running server: moves the user's change version in this process
 * (`versions`: what the engine cached of the user is dropped, synchronously, before the
 * write's response leaves), publishes a {@link ChangeNotice} on the user's `user-changed`
 * topic (live subscriptions and caches, in this process or over Redis), and asks `jobs`
 * for a regeneration (deduplicated per user). A queue that is unreachable is logged at
 * warn and never fails the write: the daily refresh catches up.
 */
export function createChangeAnnouncer({
  pubsub,
  jobs,
  logger,
  versions,
}: {
  pubsub: ChangePubSub
  jobs: RegenerationRequests
  logger: Logger
  versions?: ChangeVersions | undefined
}): AnnounceChange {
  return (userId, what) => {
    // Before publishing: over Redis the notice comes back to this process only later.
    versions?.bump(userId)
    publishChange(pubsub, userId, { what })
    jobs.requestRegeneration(userId).catch((error: unknown) => logger.warn({ err: error, userId }, 'regeneration not queued'))
  }
}
