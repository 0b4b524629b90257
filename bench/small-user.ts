/** The fixture of the request benchmarks (bench:limits, bench:budget): one user with 100 contacts and a session token. */
import { issueToken } from '../src/auth/tokens.ts'
import { computeNextDueAt } from '../src/contacts/cadence.ts'
import type { PrismaClient } from '../src/generated/prisma/client.ts'

/** Creates `bench@example.com` with 100 contacts named `Contact 000`..`Contact 099`; returns the user's id and a bearer token. */
export async function createSmallUser(prisma: PrismaClient): Promise<{ userId: string; token: string }> {
  const createdAt = new Date()
  const user = await prisma.user.create({ data: { email: 'bench@example.com' } })
  await prisma.contact.createMany({
    data: Array.from({ length: 100 }, (_, i) => ({
      userId: user.id,
      name: `Contact ${String(i).padStart(3, '0')}`,
      createdAt,
      nextDueAt: computeNextDueAt({ frequencyPreference: null, dunbarCircle: null, lastContactDate: null, createdAt }),
    })),
  })
  return { userId: user.id, token: await issueToken(prisma, user.id) }
}
