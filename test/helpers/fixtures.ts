/** Small, explicit test data written through Prisma (the seed generator has its own tests). */
import { issueToken } from '../../src/auth/tokens.ts'
import type { AnnounceChange } from '../../src/changes/announce.ts'
import { computeNextDueAt } from '../../src/contacts/cadence.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import type { DunbarCircle, FrequencyPreference } from '../../src/generated/prisma/enums.ts'

const CIRCLES: (DunbarCircle | null)[] = ['INNER', 'CLOSE', 'ACTIVE', 'CASUAL', 'ACQUAINTANCE', null]
const FREQUENCIES: (FrequencyPreference | null)[] = ['WEEKLY', 'MONTHLY', 'QUARTERLY', 'FLEXIBLE', null, 'YEARLY']

export const FIXTURE_NOW = new Date('2026-11-25T12:00:00.000Z')

/** An announcer that tells nobody: for tests that set data up through the write functions and want no side effect. */
export const announceNothing: AnnounceChange = () => {}

export interface FixtureUser {
  id: string
  email: string
  token: string
  groupIds: string[]
}

/**
 * A user with `count` contacts whose keys collide on purpose (names repeat,
 * several share a lastContactDate and so a nextDueAt, some were never
 * contacted), every seventh archived, tags and groups spread over them.
 */
export async function createUserWithContacts(prisma: PrismaClient, email: string, count: number): Promise<FixtureUser> {
  const user = await prisma.user.create({ data: { email, name: email.split('@')[0] ?? email } })
  const groups = await Promise.all(
    ['Family', 'Work', 'Climbing'].map((name) => prisma.group.create({ data: { userId: user.id, name } })),
  )
  const createdAt = new Date(FIXTURE_NOW.getTime() - 400 * 86_400_000)
  const groupIds = groups.map((group) => group.id)
  const rows = Array.from({ length: count }, (_, i) => {
    const frequencyPreference = FREQUENCIES[i % FREQUENCIES.length] ?? null
    const dunbarCircle = CIRCLES[i % CIRCLES.length] ?? null
    const lastContactDate = i % 5 === 0 ? null : new Date(FIXTURE_NOW.getTime() - (i % 23) * 86_400_000)
    return {
      userId: user.id,
      name: `${['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara'][i % 5]} ${String(i % 17).padStart(2, '0')}`,
      email: `contact${i}@${email.split('@')[1]}`,
      frequencyPreference,
      dunbarCircle,
      lastContactDate,
      archived: i % 7 === 3,
      tags: i % 4 === 0 ? ['friend'] : i % 4 === 1 ? ['work', 'mentor'] : [],
      groupIds: groupIds.filter((_, g) => (i + g) % 3 === 0),
      createdAt,
      nextDueAt: computeNextDueAt({ frequencyPreference, dunbarCircle, lastContactDate, createdAt }),
    }
  })
  await prisma.contact.createMany({ data: rows })
  return { id: user.id, email, token: await issueToken(prisma, user.id, 'test'), groupIds }
}

/**
 * A user built for the heaviest walks: `count` contacts spread over every
 * circle and frequency, each in one of `timezones` (round robin) and with
 * `notesBytes` of notes (to make each event large), all due now-ish so every
 * class holds candidates.
 */
export async function createUserForHeavyWalks(
  prisma: PrismaClient,
  email: string,
  { count, timezones, notesBytes = 0 }: { count: number; timezones: readonly string[]; notesBytes?: number },
): Promise<FixtureUser> {
  const user = await prisma.user.create({ data: { email, name: email.split('@')[0] ?? email } })
  const createdAt = new Date(FIXTURE_NOW.getTime() - 400 * 86_400_000)
  const notes = notesBytes > 0 ? 'n'.repeat(notesBytes) : null
  const rows = Array.from({ length: count }, (_, i) => {
    const frequencyPreference = FREQUENCIES[i % FREQUENCIES.length] ?? null
    const dunbarCircle = CIRCLES[Math.floor(i / FREQUENCIES.length) % CIRCLES.length] ?? null
    const lastContactDate = new Date(FIXTURE_NOW.getTime() - ((i * 7) % 200) * 86_400_000)
    return {
      userId: user.id,
      name: `Heavy ${i}`,
      frequencyPreference,
      dunbarCircle,
      lastContactDate,
      timezone: timezones[i % timezones.length]!,
      customNotes: notes,
      createdAt,
      nextDueAt: computeNextDueAt({ frequencyPreference, dunbarCircle, lastContactDate, createdAt }),
    }
  })
  for (let i = 0; i < rows.length; i += 1000) await prisma.contact.createMany({ data: rows.slice(i, i + 1000) })
  return { id: user.id, email, token: await issueToken(prisma, user.id, 'test'), groupIds: [] }
}
