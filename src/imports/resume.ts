/**
 * What a restart does for imports: every import left QUEUED or RUNNING (the process died, or
 * was stopped, under it) is handed back to the runner, which resumes it from its checkpoint;
 * the chunks of uploads that never finished are deleted.
 */
import type { PrismaClient } from '../generated/prisma/client.ts'
import { HOUR_MS } from '../time.ts'
import { UPLOAD_INTERRUPTED } from './upload.ts'

/** Ids of the imports to run again (QUEUED or RUNNING), oldest first, `pageSize` at a time (keyset on id). */
export async function* unfinishedImports(prisma: PrismaClient, pageSize = 500): AsyncGenerator<string[], void, undefined> {
  let last: string | undefined
  for (;;) {
    const page = await prisma.import.findMany({
      where: { status: { in: ['QUEUED', 'RUNNING'] }, ...(last === undefined ? {} : { id: { gt: last } }) },
      orderBy: { id: 'asc' },
      select: { id: true },
      take: pageSize,
    })
    if (page.length === 0) return
    yield page.map((row) => row.id)
    if (page.length < pageSize) return
    last = page.at(-1)!.id
  }
}

/** An upload older than this that still says {@link UPLOAD_INTERRUPTED} died with its process (ms). */
export const ABANDONED_UPLOAD_MS = HOUR_MS

/**
 * Deletes the stored pieces of uploads that never finished (older than {@link ABANDONED_UPLOAD_MS}:
 * a younger one may still be arriving on another process). Their Import rows stay, FAILED, so
 * the user sees what happened. Returns how many chunks were deleted.
 */
export async function deleteAbandonedUploads(prisma: PrismaClient, now: Date): Promise<number> {
  const { count } = await prisma.importChunk.deleteMany({
    where: { import: { status: 'FAILED', error: UPLOAD_INTERRUPTED, createdAt: { lt: new Date(now.getTime() - ABANDONED_UPLOAD_MS) } } },
  })
  return count
}
