/**
 * Regenerates a user's stored suggestions: walks the engine's ranked stream
 * (flat memory: one batch at a time, plus the K ids kept) and makes the user's
 * PENDING `Suggestion` rows equal the engine's current top K. Rows the user
 * acted on (ACCEPTED, DISMISSED, SNOOZED) are never written or deleted here.
 *
 * Idempotent: a second run over the same data and clock writes nothing.
 * Safe next to `setSuggestionStatus`: every write here is conditioned on the
 * row still being PENDING, so a status set meanwhile wins.
 */
import type { PrismaClient } from '../../generated/prisma/client.ts'
import { DEFAULT_MAX_SUGGESTIONS, type Suggestion, type SuggestionEngine } from '../../suggestions/generator.ts'

export interface RegenerationDependencies {
  prisma: PrismaClient
  /** The engine carries its own clock (`EngineDependencies.now`): the list is ranked at that time. */
  engine: SuggestionEngine
  /** How many suggestions to keep per user (the engine's top K), default 50. */
  maxSuggestions?: number
  /** Contacts per page of the engine's walk, default the engine's. */
  batchSize?: number
}

export interface RegenerationResult {
  /** PENDING rows that now hold the engine's list (new, updated or already equal). */
  stored: number
  /** PENDING rows deleted because the engine no longer lists them. */
  removed: number
  /** Contacts the engine read. */
  contactsProcessed: number
  durationMs: number
}

export interface RegenerationProgress {
  /** Contacts read so far. */
  scanned: number
  /** Suggestions received so far, out of at most `maxSuggestions`. */
  suggestions: number
  maxSuggestions: number
}

/** Makes the user's PENDING suggestion rows equal the engine's current top K. */
export async function regenerateStoredSuggestions(
  deps: RegenerationDependencies,
  { userId, signal }: { userId: string; signal?: AbortSignal },
  onProgress?: (progress: RegenerationProgress) => void | Promise<void>,
): Promise<RegenerationResult> {
  const started = performance.now()
  const { prisma } = deps
  const maxSuggestions = deps.maxSuggestions ?? DEFAULT_MAX_SUGGESTIONS
  // A user deleted after the job was queued: nothing to do (and nothing to retry).
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { id: true } })
  if (!user) return { stored: 0, removed: 0, contactsProcessed: 0, durationMs: performance.now() - started }

  const listed = new Set<string>() // at most K ids: the only state kept across batches
  let stored = 0
  let contactsProcessed = 0
  const events = deps.engine.generateTimeboundSuggestionsStreaming(userId, {
    maxSuggestions,
    ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
    ...(signal ? { signal } : {}),
  })
  for await (const event of events) {
    if (event.kind === 'batch') {
      for (const suggestion of event.suggestions) listed.add(suggestion.id)
      stored += await storeBatch(prisma, userId, event.suggestions)
      contactsProcessed = event.scanned
      await onProgress?.({ scanned: event.scanned, suggestions: listed.size, maxSuggestions })
    } else if (event.kind === 'complete') {
      contactsProcessed = event.scanned
    }
  }

  // Only after the whole list is known: a failed walk leaves the previous rows in place.
  const { count: removed } = await prisma.suggestion.deleteMany({
    where: { userId, status: 'PENDING', id: { notIn: [...listed] } },
  })
  await onProgress?.({ scanned: contactsProcessed, suggestions: listed.size, maxSuggestions })
  return { stored, removed, contactsProcessed, durationMs: performance.now() - started }
}

/**
 * Writes one batch: creates the rows that do not exist, updates PENDING rows
 * whose priority or reason changed, leaves acted-on rows alone. Returns how many
 * of the batch are now PENDING rows. The id encodes contact and slot, so a row
 * with the same id has the same contact and slot.
 */
async function storeBatch(prisma: PrismaClient, userId: string, suggestions: Suggestion[]): Promise<number> {
  if (suggestions.length === 0) return 0
  const existing = await prisma.suggestion.findMany({
    where: { id: { in: suggestions.map((suggestion) => suggestion.id) } },
    select: { id: true, userId: true, status: true, priority: true, reason: true },
  })
  const byId = new Map(existing.map((row) => [row.id, row]))
  const toCreate = suggestions.filter((suggestion) => !byId.has(suggestion.id))
  const toUpdate = suggestions.filter((suggestion) => {
    const row = byId.get(suggestion.id)
    return row?.status === 'PENDING' && row.userId === userId && (row.priority !== suggestion.priority || row.reason !== suggestion.reason)
  })
  // skipDuplicates: a row created meanwhile (a status set by the user, or a concurrent run) is kept as it is.
  const created = toCreate.length
    ? (
        await prisma.suggestion.createMany({
          data: toCreate.map((suggestion) => ({
            id: suggestion.id,
            userId,
            contactId: suggestion.contact.id,
            slotStart: suggestion.slot?.start ?? null,
            slotEnd: suggestion.slot?.end ?? null,
            priority: suggestion.priority,
            reason: suggestion.reason,
            status: 'PENDING' as const,
          })),
          skipDuplicates: true,
        })
      ).count
    : 0
  for (const suggestion of toUpdate) {
    await prisma.suggestion.updateMany({
      where: { id: suggestion.id, userId, status: 'PENDING' },
      data: { priority: suggestion.priority, reason: suggestion.reason },
    })
  }
  const alreadyPending = existing.filter((row) => row.status === 'PENDING' && row.userId === userId).length
  return created + alreadyPending
}
