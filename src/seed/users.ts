/** A seeded user and their groups. */
import { DAY_MS } from '../time.ts'
import { Random } from './random.ts'
import type { SeedGroup, SeedUser } from './rows.ts'

/** The groups a seeded user has (a handful, as people keep them). */
export const SEED_GROUP_NAMES = ['Family', 'Work', 'College', 'Climbing', 'Book club', 'Neighbours', 'Running club'] as const

/** Who the seeded user is; `now` dates the rows (the user is created 2,200 to 2,600 days before it). */
export interface UserSpec {
  seed: number
  email: string
  name: string
  timezone: string
  now: Date
}

/** The user row; its id depends on the seed and the e-mail address only. Older than all its contacts. */
export function generateUser(spec: UserSpec): SeedUser {
  const random = new Random(spec.seed, `user:${spec.email}`)
  const createdAt = new Date(spec.now.getTime() - random.between(2200, 2600) * DAY_MS)
  return { id: random.uuid(), email: spec.email, name: spec.name, timezone: spec.timezone, createdAt, updatedAt: createdAt }
}

/** The user's groups (see {@link SEED_GROUP_NAMES}). */
export function generateGroups(spec: { seed: number; userId: string; now: Date }): SeedGroup[] {
  const random = new Random(spec.seed, `groups:${spec.userId}`)
  return SEED_GROUP_NAMES.map((name) => {
    const createdAt = new Date(spec.now.getTime() - random.between(30, 1200) * DAY_MS - random.int(DAY_MS))
    return { id: random.uuid(), userId: spec.userId, name, createdAt, updatedAt: createdAt }
  })
}
