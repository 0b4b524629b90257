/**
 * In development the demo user's token is kept in the data directory, so that a restart of the server
 * does not sign out the open tabs, GraphiQL, or the curl command copied from the log (issue 13).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { activeTokenWhere, hashToken, issueToken, looksLikeToken } from './tokens.ts'

/** The file, inside DATA_DIR, that holds the development demo token (mode 0600). */
export const DEMO_TOKEN_FILE = 'demo-token'

/**
 * The demo token of `userId`, the same across restarts: the one in `dataDir/demo-token` while it is an
 * active token of that user (not revoked, not expired); otherwise the user's earlier tokens named `name` are
 * deleted, a new one is issued (`issueToken`, within `maxActive`) and written there (mode 0600, by rename,
 * so a reader never sees half a token).
 *
 * @throws what the file system or the database throws; ClientError RATE_LIMITED from `issueToken` when the
 *   user already holds `maxActive` other tokens.
 */
export async function loadOrIssueDemoToken(
  prisma: PrismaClient,
  { dataDir, userId, name, maxActive, now = new Date() }: { dataDir: string; userId: string; name: string; maxActive: number; now?: Date },
): Promise<string> {
  const file = path.join(dataDir, DEMO_TOKEN_FILE)
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (looksLikeToken(kept)) {
    const active = await prisma.authToken.findFirst({ where: { userId, tokenHash: hashToken(kept), ...activeTokenWhere(now) }, select: { id: true } })
    if (active) return kept
  }
  await prisma.authToken.deleteMany({ where: { userId, name, kind: 'SESSION' } })
  const token = await issueToken(prisma, userId, name, { maxActive, now })
  await mkdir(dataDir, { recursive: true })
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(draft, `${token}\n`, { mode: 0o600 })
    await rename(draft, file)
  } finally {
    await rm(draft, { force: true })
  }
  return token
}
