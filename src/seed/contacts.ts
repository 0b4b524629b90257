/**
 * A seeded user's contacts, as a generator of chunks so a million of them
 * never sit in memory at once. Each block of {@link CONTACT_BLOCK_SIZE}
 * contacts has its own random streams: any part can be generated without the
 * ones before it (parallel writers). A contact's group ids are part of its row
 * (`"Contact"."groupIds"`), so one pass writes everything.
 */
import { z } from 'zod'
import { cadenceDays, computeNextDueAt } from '../contacts/cadence.ts'
import { matchKeysOf } from '../contacts/match-keys.ts'
import type { DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'
import { DAY_MS } from '../time.ts'
import { dunbarBounds, dunbarCircleAt } from './dunbar.ts'
import { Random, weightedTable } from './random.ts'
import type { SeedContact } from './rows.ts'
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, NOTES, OTHER_SOCIAL, PLACES, slugOf, TAGS } from './vocabulary.ts'

const FREQUENCIES: readonly FrequencyPreference[] = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE']

const CIRCLE_FREQUENCY: Readonly<Record<DunbarCircle, FrequencyPreference>> = {
  INNER: 'WEEKLY',
  CLOSE: 'BIWEEKLY',
  ACTIVE: 'MONTHLY',
  CASUAL: 'QUARTERLY',
  ACQUAINTANCE: 'YEARLY',
}

const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

/** `count` random decimal digits (count <= 7). */
function digits(random: Random, count: number): string {
  return String(random.int(POWERS_OF_TEN[count] as number)).padStart(count, '0')
}

const GROUP_COUNTS = weightedTable([[0, 45], [1, 35], [2, 15], [3, 5]] as const)
const TAG_COUNTS = weightedTable([[0, 40], [1, 35], [2, 18], [3, 7]] as const)

/**
 * Contacts are generated in blocks of this many, each block from its own
 * random streams: any block can be generated without the ones before it (so
 * parallel writers each take a part), and each chunk a generator yields is one
 * block. Small on purpose: a chunk that outlives V8's young generation gets
 * copied and promoted (blocks of 5,000 made generation three times slower).
 */
export const CONTACT_BLOCK_SIZE = 1000

/** Whose contacts, how many, and which part of them to generate. */
export interface ContactsSpec {
  seed: number
  userId: string
  /** How many contacts the user has (all parts together). */
  count: number
  /** The ids of the user's groups; each contact joins 0 to 3 of them. */
  groupIds: readonly string[]
  now: Date
  /**
   * Only part `index` (0-based) of `of` contiguous parts, split on block
   * boundaries; the parts together are exactly the whole. Default: the whole.
   */
  part?: { index: number; of: number }
}

const MAX_DAYS_AGO = 730

/** Part `index` (0-based) of `of` parts: whole numbers, `of` at least 1, `index` below it. */
const partSchema = z.object({ index: z.int().min(0), of: z.int().min(1) }).refine((part) => part.index < part.of)

/** The contact indexes [start, end) of the spec's part. */
export function contactRange(spec: Pick<ContactsSpec, 'count' | 'part'>): { start: number; end: number } {
  const { index, of } = spec.part ?? { index: 0, of: 1 }
  if (!partSchema.safeParse({ index, of }).success) throw new RangeError(`invalid part ${index} of ${of}`)
  const blocks = Math.ceil(spec.count / CONTACT_BLOCK_SIZE)
  const blockAt = (part: number) => Math.floor((blocks * part) / of)
  return {
    start: Math.min(blockAt(index) * CONTACT_BLOCK_SIZE, spec.count),
    end: Math.min(blockAt(index + 1) * CONTACT_BLOCK_SIZE, spec.count),
  }
}

/**
 * Contact ids are UUID v4 strings that ascend with the contact's index: the
 * first 16 bits are the user's (random), the next 32 grow with the index (a
 * random point in the index's slot of 2^32 / count), the rest are random.
 * Like the `uuid(7)` ids the app creates, a bulk load then appends to the
 * primary-key and (userId, id) indexes instead of writing all over them:
 * measured for 1M contacts on two connections, the COPY of "Contact" took
 * 15.6 s instead of 24.5 s with uniformly random ids.
 */
function contactIdOf(random: Random, userPrefix: number, index: number, count: number): string {
  const slot = 4294967296 / Math.max(count, 1)
  const position = Math.min(Math.floor((index + random.next()) * slot), 4294967295)
  return random.uuidAfter(((userPrefix & 0xffff) << 16) | (position >>> 16), position & 0xffff)
}

function contactIdPrefix(spec: ContactsSpec): number {
  return new Random(spec.seed, `contact-id-prefix:${spec.userId}`).uint32() >>> 16
}

/**
 * The independent streams behind one block of a user's contacts. Groups have
 * their own, so the number of a user's groups changes no other attribute.
 */
function blockStreams(spec: ContactsSpec, block: number) {
  return {
    ids: new Random(spec.seed, `contact-ids:${spec.userId}:${block}`),
    attributes: new Random(spec.seed, `contact-attributes:${spec.userId}:${block}`),
    groups: new Random(spec.seed, `contact-groups:${spec.userId}:${block}`),
  }
}

/** 0 to 3 distinct groups for one contact (about 45% none, 35% one, 15% two, 5% three). */
function drawGroupIds(random: Random, groupIds: readonly string[]): string[] {
  const chosen: string[] = []
  if (groupIds.length === 0) return chosen
  const count = Math.min(random.weighted(GROUP_COUNTS), groupIds.length)
  while (chosen.length < count) {
    const groupId = random.pick(groupIds)
    if (!chosen.includes(groupId)) chosen.push(groupId)
  }
  return chosen
}

/** Days since the last contact, drawn around the cadence so some are fresh and some long overdue. */
function drawDaysAgo(random: Random, circle: DunbarCircle | null, cadence: number): number {
  const roll = random.next()
  let days: number
  if (circle === null) days = random.int(MAX_DAYS_AGO)
  else if (roll < 0.55) days = random.next() * cadence // within the cadence: not yet due
  else if (roll < 0.85) days = cadence * (1 + random.next() * 1.5) // due or somewhat overdue
  else days = cadence * (2.5 + random.next() * 10) // long overdue
  return Math.min(Math.floor(days), MAX_DAYS_AGO)
}

function drawFrequency(random: Random, circle: DunbarCircle | null): FrequencyPreference | null {
  const roll = random.next()
  if (circle !== null) {
    if (roll < 0.45) return CIRCLE_FREQUENCY[circle]
    if (roll < 0.6) return null
    if (roll < 0.7) return 'FLEXIBLE'
    return random.pick(FREQUENCIES)
  }
  if (roll < 0.5) return null
  if (roll < 0.6) return 'FLEXIBLE'
  return random.pick(['MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY'] as const)
}

function generateContact(
  spec: ContactsSpec,
  index: number,
  id: string,
  circle: DunbarCircle | null,
  random: Random,
  groupIds: string[],
): SeedContact {
  const now = spec.now.getTime()
  const first = random.pick(FIRST_NAMES)
  const last = random.pick(LAST_NAMES)
  const firstSlug = slugOf(first)
  const lastSlug = slugOf(last)
  const handle = `${firstSlug}${random.chance(0.5) ? '.' : '_'}${lastSlug}`
  const place = random.chance(0.9) ? random.weighted(PLACES) : null
  const email = random.chance(0.85)
    ? `${firstSlug}.${lastSlug}${random.chance(0.4) ? random.between(1, 99) : ''}@${random.pick(EMAIL_DOMAINS)}`
    : null
  const phone = random.chance(0.75) ? `${place?.dialCode ?? '+49'} ${digits(random, 3)} ${digits(random, 7)}` : null
  const linkedIn = random.chance(0.4) ? `https://www.linkedin.com/in/${firstSlug}-${lastSlug}-${digits(random, 4)}` : null
  const instagram = random.chance(0.3) ? `@${handle}` : null
  const xHandle = random.chance(0.2) ? `@${handle.slice(0, 14)}` : null
  let otherSocialMedia: Record<string, string> | null = null
  if (random.chance(0.08)) {
    const network = random.pick(OTHER_SOCIAL)
    otherSocialMedia = { [network]: network === 'mastodon' ? `@${handle}@mastodon.social` : handle }
  }
  const customNotes = random.chance(0.25) ? random.pick(NOTES) : null
  const tagCount = random.weighted(TAG_COUNTS)
  const tags: string[] = []
  while (tags.length < tagCount) {
    const tag = random.pick(TAGS)
    if (!tags.includes(tag)) tags.push(tag)
  }
  const frequencyPreference = drawFrequency(random, circle)
  const neverProbability = circle === null ? 0.25 : circle === 'INNER' ? 0 : circle === 'CLOSE' ? 0.02 : 0.1
  const cadence = cadenceDays({ frequencyPreference, dunbarCircle: circle })
  let lastContactDate: Date | null = null
  let createdAt: Date
  if (random.chance(neverProbability)) {
    createdAt = new Date(now - random.int(MAX_DAYS_AGO) * DAY_MS - random.int(DAY_MS) - 1)
  } else {
    lastContactDate = new Date(now - drawDaysAgo(random, circle, cadence) * DAY_MS - random.int(DAY_MS) - 1)
    createdAt = new Date(lastContactDate.getTime() - random.between(1, 1400) * DAY_MS - random.int(DAY_MS))
  }
  const nextDueAt = computeNextDueAt({ frequencyPreference, dunbarCircle: circle, lastContactDate, createdAt })
  return {
    id,
    userId: spec.userId,
    name: `${first} ${last}`,
    email,
    phone,
    emails: email ? [email] : [],
    phones: phone ? [phone] : [],
    // The dedupe keys every write keeps (contacts/match-keys.ts), so an import finds seeded contacts too.
    matchKeys: matchKeysOf(email ? [email] : [], phone ? [phone] : []),
    linkedIn,
    instagram,
    xHandle,
    otherSocialMedia,
    location: place?.location ?? null,
    timezone: place?.timezone ?? null,
    customNotes,
    lastContactDate,
    frequencyPreference,
    tags,
    groupIds,
    archived: random.chance(0.02),
    source: index % 4 === 3 ? 'IMPORT' : 'MANUAL',
    dunbarCircle: circle,
    circleAssignedAt: circle === null ? null : createdAt,
    nextDueAt,
    createdAt,
    updatedAt: lastContactDate ?? createdAt,
  }
}

/** The user's contacts (of the spec's part), with their group ids, one block per chunk. */
export function* generateContactChunks(spec: ContactsSpec): Generator<SeedContact[], void, undefined> {
  const { start, end } = contactRange(spec)
  const bounds = dunbarBounds(spec.count)
  const prefix = contactIdPrefix(spec)
  for (let blockStart = start; blockStart < end; blockStart += CONTACT_BLOCK_SIZE) {
    const streams = blockStreams(spec, blockStart / CONTACT_BLOCK_SIZE)
    const blockEnd = Math.min(blockStart + CONTACT_BLOCK_SIZE, end)
    const contacts: SeedContact[] = []
    for (let index = blockStart; index < blockEnd; index++) {
      const id = contactIdOf(streams.ids, prefix, index, spec.count)
      const groupIds = drawGroupIds(streams.groups, spec.groupIds)
      contacts.push(generateContact(spec, index, id, dunbarCircleAt(index, bounds), streams.attributes, groupIds))
    }
    yield contacts
  }
}
