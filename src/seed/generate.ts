/**
 * Realistic, deterministic demo and benchmark data for one user. Pure: no
 * `Math.random`, no clock (`now` is passed in), no database. The same seed and
 * `now` give the same rows, byte for byte, whatever the chunk size.
 *
 * Contacts come as a generator of chunks so a million of them never sit in
 * memory at once. Each block of {@link CONTACT_BLOCK_SIZE} contacts has its
 * own random streams: any part can be generated without the ones before it
 * (parallel writers). A contact's group ids are part of its row
 * (`"Contact"."groupIds"`), so one pass writes everything.
 */
import { cadenceDays, computeNextDueAt } from '../contacts/cadence.ts'
import { DAY_MS, MINUTE_MS } from '../time.ts'
import type { ContactSource, DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'

// ---------------------------------------------------------------------------
// Random numbers

/**
 * cyrb128: hashes a string to four 32-bit words, the seed state of {@link Random}.
 * 128 bits of state keep the streams of different users and labels apart (a
 * 32-bit generator such as mulberry32 has one 2^32 cycle: two users' streams
 * of a million contacts each could overlap, and so could their UUIDs).
 */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

/** Values with weights, prepared for {@link Random.weighted}. */
export interface WeightedTable<T> {
  values: readonly T[]
  cumulative: readonly number[]
  total: number
}

/** `[[value, weight], ...]` as a {@link WeightedTable}. */
export function weightedTable<T>(choices: readonly (readonly [T, number])[]): WeightedTable<T> {
  let total = 0
  const cumulative = choices.map(([, weight]) => (total += weight))
  return { values: choices.map(([value]) => value), cumulative, total }
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** A seeded PRNG (sfc32, period about 2^128). One instance per stream: `new Random(seed, 'contact-ids')`. */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, label: string) {
    ;[this.a, this.b, this.c, this.d] = cyrb128(`${seed}:${label}`)
    for (let i = 0; i < 12; i++) this.uint32() // mix the initial state
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  /** Picks from a {@link WeightedTable}. */
  weighted<T>(table: WeightedTable<T>): T {
    const roll = this.next() * table.total
    const { cumulative, values } = table
    let low = 0
    let high = cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if (roll < (cumulative[middle] as number)) high = middle
      else low = middle + 1
    }
    return values[low] as T
  }

  /** 16 random bytes formatted as a UUID version 4 string. */
  uuid(): string {
    return this.uuidAfter(this.uint32(), this.uint32() >>> 16)
  }

  /**
   * A UUID version 4 string whose first six bytes are given (`high32`, then
   * the 16 bits `next16`) and whose other bytes are random: ids that ascend in
   * the order they are made, as the `uuid(7)` ids Prisma creates do.
   */
  uuidAfter(high32: number, next16: number): string {
    const w0 = high32 >>> 0
    const w1 = (((next16 & 0xffff) << 16) | (this.uint32() & 0x0fff) | 0x4000) >>> 0 // version 4 in byte 6
    const w2 = ((this.uint32() & 0x3fffffff) | 0x80000000) >>> 0 // RFC 4122 variant in byte 8
    const w3 = this.uint32()
    return (
      HEX[w0 >>> 24]! + HEX[(w0 >>> 16) & 255]! + HEX[(w0 >>> 8) & 255]! + HEX[w0 & 255]! + '-' +
      HEX[w1 >>> 24]! + HEX[(w1 >>> 16) & 255]! + '-' + HEX[(w1 >>> 8) & 255]! + HEX[w1 & 255]! + '-' +
      HEX[w2 >>> 24]! + HEX[(w2 >>> 16) & 255]! + '-' + HEX[(w2 >>> 8) & 255]! + HEX[w2 & 255]! +
      HEX[w3 >>> 24]! + HEX[(w3 >>> 16) & 255]! + HEX[(w3 >>> 8) & 255]! + HEX[w3 & 255]!
    )
  }
}

// ---------------------------------------------------------------------------
// Rows (the columns the bulk writer fills; everything else keeps its default)

export interface SeedUser {
  id: string
  email: string
  name: string
  timezone: string
  createdAt: Date
  updatedAt: Date
}

export interface SeedGroup {
  id: string
  userId: string
  name: string
  createdAt: Date
  updatedAt: Date
}

export interface SeedContact {
  id: string
  userId: string
  name: string
  email: string | null
  phone: string | null
  linkedIn: string | null
  instagram: string | null
  xHandle: string | null
  otherSocialMedia: Record<string, string> | null
  location: string | null
  timezone: string | null
  customNotes: string | null
  lastContactDate: Date | null
  frequencyPreference: FrequencyPreference | null
  tags: string[]
  /** Ids of the user's groups the contact belongs to (0 to 3, distinct, in the order drawn). */
  groupIds: string[]
  archived: boolean
  source: ContactSource
  dunbarCircle: DunbarCircle | null
  circleAssignedAt: Date | null
  nextDueAt: Date
  createdAt: Date
  updatedAt: Date
}

export interface SeedAvailability {
  id: string
  userId: string
  /** ISO weekday, 1 = Monday ... 7 = Sunday. */
  weekday: number
  startMinute: number
  endMinute: number
}

export interface SeedCalendarEvent {
  id: string
  userId: string
  title: string
  startsAt: Date
  endsAt: Date
}

// ---------------------------------------------------------------------------
// Vocabulary

const FIRST_NAMES = [
  'Anna', 'Ben', 'Clara', 'David', 'Elena', 'Felix', 'Greta', 'Hannah', 'Ivan', 'Jonas', 'Kira', 'Lena', 'Mia',
  'Noah', 'Olivia', 'Paul', 'Quentin', 'Rosa', 'Sofia', 'Tom', 'Uma', 'Victor', 'Wen', 'Xavier', 'Yara', 'Zoë',
  'Aisha', 'Arjun', 'Bilal', 'Camila', 'Chen', 'Dmitri', 'Emeka', 'Fatima', 'Gabriel', 'Haruto', 'Ingrid', 'José',
  'Kwame', 'Lucía', 'Mateo', 'Nadia', 'Oskar', 'Priya', 'Rahul', 'Sakura', 'Siobhán', 'Tariq', 'Valentina', 'Wiktor',
  'Yusuf', 'Zainab', 'Amélie', 'Björn', 'Chloé', 'Dara', 'Elif', 'François', 'Giulia', 'Hiro', 'Isabel', 'Jamal',
  'Katarzyna', 'Liam', 'Maëlle', 'Nikolai', 'Omar', 'Pedro', 'Ravi', 'Sanne', 'Theo', 'Ulla', 'Vera', 'William',
  'Ximena', 'Youssef', 'Zofia', 'Alex', 'Sam', 'Charlie', 'Robin', 'Jordan', 'Max', 'Luca', 'Emma', 'Leon', 'Marie',
] as const

const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Smith',
  'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martínez', 'Hernández', 'López',
  'González', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Martin', 'Lee', "O'Brien", 'Murphy', 'Kelly',
  'Nguyen', 'Tran', 'Kim', 'Park', 'Choi', 'Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yamamoto', 'Tanaka', 'Suzuki',
  'Sato', 'Patel', 'Sharma', 'Singh', 'Gupta', 'Iyer', 'Khan', 'Ahmed', 'Hassan', 'Okafor', 'Mensah', 'Adeyemi',
  'Silva', 'Santos', 'Oliveira', 'Costa', 'Rossi', 'Russo', 'Ferrari', 'Dubois', 'Lefèvre', 'Moreau', 'Janssen',
  'de Vries', 'van Dijk', 'Nowak', 'Kowalski', 'Novák', 'Ivanova', 'Petrov', 'Andersson', 'Johansson', 'Nielsen',
  'Hansen', 'Virtanen', 'Yılmaz', 'Kaya', 'Papadopoulos', 'Cohen', 'Levi', 'Rahman', 'Haddad', 'Mwangi',
] as const

interface Place {
  location: string
  timezone: string
  dialCode: string
}

/**
 * Where contacts live. IANA zones with and without DST, and the odd ones:
 * half-hour (Kolkata, Tehran, Adelaide with DST, Darwin without, St. John's),
 * quarter-hour (Kathmandu, Chatham), and the date line (Auckland, Kiritimati).
 */
const PLACE_WEIGHTS: readonly (readonly [Place, number])[] = [
  [{ location: 'Berlin, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 18],
  [{ location: 'Hamburg, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 6],
  [{ location: 'Munich, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 6],
  [{ location: 'Vienna, Austria', timezone: 'Europe/Vienna', dialCode: '+43' }, 3],
  [{ location: 'Zurich, Switzerland', timezone: 'Europe/Zurich', dialCode: '+41' }, 3],
  [{ location: 'London, United Kingdom', timezone: 'Europe/London', dialCode: '+44' }, 6],
  [{ location: 'Dublin, Ireland', timezone: 'Europe/Dublin', dialCode: '+353' }, 2],
  [{ location: 'Lisbon, Portugal', timezone: 'Europe/Lisbon', dialCode: '+351' }, 2],
  [{ location: 'Paris, France', timezone: 'Europe/Paris', dialCode: '+33' }, 4],
  [{ location: 'Madrid, Spain', timezone: 'Europe/Madrid', dialCode: '+34' }, 3],
  [{ location: 'Amsterdam, Netherlands', timezone: 'Europe/Amsterdam', dialCode: '+31' }, 3],
  [{ location: 'Warsaw, Poland', timezone: 'Europe/Warsaw', dialCode: '+48' }, 2],
  [{ location: 'Stockholm, Sweden', timezone: 'Europe/Stockholm', dialCode: '+46' }, 2],
  [{ location: 'Helsinki, Finland', timezone: 'Europe/Helsinki', dialCode: '+358' }, 1],
  [{ location: 'Athens, Greece', timezone: 'Europe/Athens', dialCode: '+30' }, 1],
  [{ location: 'Istanbul, Türkiye', timezone: 'Europe/Istanbul', dialCode: '+90' }, 2],
  [{ location: 'Moscow, Russia', timezone: 'Europe/Moscow', dialCode: '+7' }, 1],
  [{ location: 'Cairo, Egypt', timezone: 'Africa/Cairo', dialCode: '+20' }, 1],
  [{ location: 'Lagos, Nigeria', timezone: 'Africa/Lagos', dialCode: '+234' }, 2],
  [{ location: 'Nairobi, Kenya', timezone: 'Africa/Nairobi', dialCode: '+254' }, 1],
  [{ location: 'Cape Town, South Africa', timezone: 'Africa/Johannesburg', dialCode: '+27' }, 1],
  [{ location: 'Tehran, Iran', timezone: 'Asia/Tehran', dialCode: '+98' }, 1],
  [{ location: 'Dubai, United Arab Emirates', timezone: 'Asia/Dubai', dialCode: '+971' }, 1],
  [{ location: 'Mumbai, India', timezone: 'Asia/Kolkata', dialCode: '+91' }, 3],
  [{ location: 'Bengaluru, India', timezone: 'Asia/Kolkata', dialCode: '+91' }, 3],
  [{ location: 'Kathmandu, Nepal', timezone: 'Asia/Kathmandu', dialCode: '+977' }, 1],
  [{ location: 'Yangon, Myanmar', timezone: 'Asia/Yangon', dialCode: '+95' }, 1],
  [{ location: 'Singapore', timezone: 'Asia/Singapore', dialCode: '+65' }, 2],
  [{ location: 'Shanghai, China', timezone: 'Asia/Shanghai', dialCode: '+86' }, 2],
  [{ location: 'Seoul, South Korea', timezone: 'Asia/Seoul', dialCode: '+82' }, 2],
  [{ location: 'Tokyo, Japan', timezone: 'Asia/Tokyo', dialCode: '+81' }, 3],
  [{ location: 'Darwin, Australia', timezone: 'Australia/Darwin', dialCode: '+61' }, 1],
  [{ location: 'Adelaide, Australia', timezone: 'Australia/Adelaide', dialCode: '+61' }, 1],
  [{ location: 'Sydney, Australia', timezone: 'Australia/Sydney', dialCode: '+61' }, 3],
  [{ location: 'Auckland, New Zealand', timezone: 'Pacific/Auckland', dialCode: '+64' }, 1],
  [{ location: 'Chatham Islands, New Zealand', timezone: 'Pacific/Chatham', dialCode: '+64' }, 0.2],
  [{ location: 'Kiritimati, Kiribati', timezone: 'Pacific/Kiritimati', dialCode: '+686' }, 0.2],
  [{ location: 'Honolulu, USA', timezone: 'Pacific/Honolulu', dialCode: '+1' }, 1],
  [{ location: 'San Francisco, USA', timezone: 'America/Los_Angeles', dialCode: '+1' }, 4],
  [{ location: 'Phoenix, USA', timezone: 'America/Phoenix', dialCode: '+1' }, 1],
  [{ location: 'Denver, USA', timezone: 'America/Denver', dialCode: '+1' }, 1],
  [{ location: 'Chicago, USA', timezone: 'America/Chicago', dialCode: '+1' }, 2],
  [{ location: 'New York, USA', timezone: 'America/New_York', dialCode: '+1' }, 5],
  [{ location: 'Toronto, Canada', timezone: 'America/Toronto', dialCode: '+1' }, 2],
  [{ location: "St. John's, Canada", timezone: 'America/St_Johns', dialCode: '+1' }, 0.5],
  [{ location: 'Mexico City, Mexico', timezone: 'America/Mexico_City', dialCode: '+52' }, 2],
  [{ location: 'Bogotá, Colombia', timezone: 'America/Bogota', dialCode: '+57' }, 1],
  [{ location: 'São Paulo, Brazil', timezone: 'America/Sao_Paulo', dialCode: '+55' }, 2],
  [{ location: 'Buenos Aires, Argentina', timezone: 'America/Argentina/Buenos_Aires', dialCode: '+54' }, 1],
]

/** Every time zone the generator may assign (for tests and docs). */
export const SEED_TIME_ZONES: readonly string[] = [...new Set(PLACE_WEIGHTS.map(([place]) => place.timezone))]

const PLACES = weightedTable(PLACE_WEIGHTS)

const EMAIL_DOMAINS = ['gmail.com', 'outlook.com', 'proton.me', 'posteo.de', 'icloud.com', 'fastmail.com', 'web.de', 'yahoo.com']

const TAGS = [
  'friend', 'family', 'work', 'climbing', 'college', 'neighbour', 'book club', 'mentor', 'runner', 'foodie',
  'music', 'travel', 'parent', 'startup', 'board games', 'school',
] as const

/** Notes, a few of them multi-line or with quotes, tabs and backslashes (they exercise COPY escaping). */
const NOTES = [
  'Met at a conference in Lisbon.',
  'Loves climbing; ask about the Frankenjura trip.',
  'Kids: Mila (6) and Jonah (3).',
  'Birthday in spring — send a card.',
  'Prefers voice messages over texts.',
  'Allergic to nuts.\nVegetarian since 2019.',
  'Owes me a book: "The Dispossessed".',
  'Moved abroad last year.\nTime difference: call in the morning.',
  'Shares playlists\tusually on Fridays.',
  'Wi-Fi password at their place: C:\\guest\\2024 (ask first).',
  'Former team lead; good for career advice.',
  'We run the Sunday 10k together.',
  "Doesn't do phone calls, only walks.",
] as const

const OTHER_SOCIAL = ['mastodon', 'github', 'bluesky', 'signal', 'threads'] as const

const FREQUENCIES: readonly FrequencyPreference[] = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE']

const CIRCLE_FREQUENCY: Readonly<Record<DunbarCircle, FrequencyPreference>> = {
  INNER: 'WEEKLY',
  CLOSE: 'BIWEEKLY',
  ACTIVE: 'MONTHLY',
  CASUAL: 'QUARTERLY',
  ACQUAINTANCE: 'YEARLY',
}

/** The groups a seeded user has (a handful, as people keep them). */
export const SEED_GROUP_NAMES = ['Family', 'Work', 'College', 'Climbing', 'Book club', 'Neighbours', 'Running club'] as const

/** Dunbar's layers: cumulative caps of 5 / 15 / 50 / 150 / 500. */
export const DUNBAR_LAYERS: readonly (readonly [DunbarCircle, number])[] = [
  ['INNER', 5],
  ['CLOSE', 15],
  ['ACTIVE', 50],
  ['CASUAL', 150],
  ['ACQUAINTANCE', 500],
]

const DUNBAR_TOTAL = 500

/**
 * The cumulative index bounds of each circle among `count` contacts: the
 * contacts at index < bound[0] are INNER, then CLOSE up to bound[1], ..., and
 * the rest (index >= bound[4]) have no circle. Below 500 contacts the layers
 * keep their proportions (so every contact has a circle).
 */
export function dunbarBounds(count: number): number[] {
  const scale = Math.min(count, DUNBAR_TOTAL) / DUNBAR_TOTAL
  return DUNBAR_LAYERS.map(([, cap]) => Math.round(cap * scale))
}

/** The circle of the contact at `index` among `bounds` (from {@link dunbarBounds}). */
export function dunbarCircleAt(index: number, bounds: readonly number[]): DunbarCircle | null {
  for (let layer = 0; layer < DUNBAR_LAYERS.length; layer++) {
    if (index < (bounds[layer] as number)) return (DUNBAR_LAYERS[layer] as readonly [DunbarCircle, number])[0]
  }
  return null
}

// ---------------------------------------------------------------------------
// Generators

/** ASCII slug of a name part for handles and e-mail addresses ("Siobhán" -> "siobhan", "O'Brien" -> "obrien"). */
function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ı/g, 'i')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
}

const SLUGS = new Map<string, string>([...FIRST_NAMES, ...LAST_NAMES].map((name) => [name, slug(name)]))
const slugOf = (name: string) => SLUGS.get(name) as string

const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

/** `count` random decimal digits (count <= 7). */
function digits(random: Random, count: number): string {
  return String(random.int(POWERS_OF_TEN[count] as number)).padStart(count, '0')
}

const GROUP_COUNTS = weightedTable([[0, 45], [1, 35], [2, 15], [3, 5]] as const)
const TAG_COUNTS = weightedTable([[0, 40], [1, 35], [2, 18], [3, 7]] as const)

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

/**
 * Contacts are generated in blocks of this many, each block from its own
 * random streams: any block can be generated without the ones before it (so
 * parallel writers each take a part), and each chunk a generator yields is one
 * block. Small on purpose: a chunk that outlives V8's young generation gets
 * copied and promoted (blocks of 5,000 made generation three times slower).
 */
export const CONTACT_BLOCK_SIZE = 1000

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

/** The contact indexes [start, end) of the spec's part. */
export function contactRange(spec: Pick<ContactsSpec, 'count' | 'part'>): { start: number; end: number } {
  const { index, of } = spec.part ?? { index: 0, of: 1 }
  if (!Number.isInteger(of) || of < 1 || !Number.isInteger(index) || index < 0 || index >= of) {
    throw new RangeError(`invalid part ${index} of ${of}`)
  }
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

// ---------------------------------------------------------------------------
// Availability and calendar

/** Weekly free time: weekday evenings 18:00-21:00, weekends 10:00-16:00 (local time of the user). */
export function generateAvailability(spec: { seed: number; userId: string }): SeedAvailability[] {
  const random = new Random(spec.seed, `availability:${spec.userId}`)
  const windows: [number, number, number][] = []
  for (let weekday = 1; weekday <= 5; weekday++) windows.push([weekday, 18 * 60, 21 * 60])
  for (const weekday of [6, 7]) windows.push([weekday, 10 * 60, 16 * 60])
  return windows.map(([weekday, startMinute, endMinute]) => ({ id: random.uuid(), userId: spec.userId, weekday, startMinute, endMinute }))
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** The wall-clock fields of `instant` in `timeZone`. */
function wallClock(instant: Date, timeZone: string) {
  const fields: Record<string, number> = {}
  for (const part of formatterOf(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value)
  }
  return { year: fields.year!, month: fields.month!, day: fields.day!, hour: fields.hour!, minute: fields.minute!, second: fields.second! }
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallClock(new Date(instant), timeZone)
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second)
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000))
}

/**
 * The instant of a local wall-clock time in `timeZone` (in a DST gap: shifted
 * forward by the gap; in an overlap: the earlier of the two instants).
 */
export function zonedTimeToUtc(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): Date {
  const asUtc = Date.UTC(year, month - 1, day, 0, minuteOfDay)
  const firstGuess = asUtc - offsetAt(asUtc, timeZone)
  const offset = offsetAt(firstGuess, timeZone)
  return new Date(asUtc - offset)
}

interface EventTemplate {
  title: string
  /** Local start, minutes after midnight: earliest and latest (in 15-minute steps). */
  from: number
  to: number
  minutes: readonly number[]
  weekend: boolean
}

const EVENT_TEMPLATES: readonly EventTemplate[] = [
  { title: 'Team stand-up', from: 9 * 60, to: 10 * 60, minutes: [15, 30], weekend: false },
  { title: 'Project review', from: 10 * 60, to: 16 * 60, minutes: [60, 90], weekend: false },
  { title: 'Lunch with a colleague', from: 12 * 60, to: 13 * 60, minutes: [60], weekend: false },
  { title: 'Dentist', from: 8 * 60, to: 17 * 60, minutes: [45], weekend: false },
  { title: 'Climbing session', from: 18 * 60, to: 19 * 60 + 30, minutes: [90, 120], weekend: false },
  { title: 'Choir rehearsal', from: 19 * 60, to: 19 * 60 + 30, minutes: [120], weekend: false },
  { title: 'Dinner with friends', from: 19 * 60, to: 20 * 60 + 30, minutes: [120, 150], weekend: false },
  { title: 'Parents evening', from: 18 * 60, to: 18 * 60 + 30, minutes: [60], weekend: false },
  { title: 'Brunch', from: 10 * 60, to: 11 * 60 + 30, minutes: [90, 120], weekend: true },
  { title: 'Farmers market', from: 9 * 60, to: 11 * 60, minutes: [60], weekend: true },
  { title: 'Family lunch', from: 12 * 60 + 30, to: 13 * 60 + 30, minutes: [90, 120], weekend: true },
  { title: 'Long run', from: 8 * 60, to: 10 * 60, minutes: [90], weekend: true },
  { title: 'Football match', from: 15 * 60, to: 16 * 60, minutes: [120], weekend: true },
]

/** Busy time over the 7 days after `now`: two to four events a day, some of them in the free evenings. */
export function generateCalendarEvents(spec: { seed: number; userId: string; timezone: string; now: Date }): SeedCalendarEvent[] {
  const random = new Random(spec.seed, `calendar:${spec.userId}`)
  const start = spec.now.getTime()
  const end = start + 7 * DAY_MS
  const today = wallClock(spec.now, spec.timezone)
  const events: SeedCalendarEvent[] = []
  for (let dayOffset = 0; dayOffset <= 7; dayOffset++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset))
    const isoWeekday = ((date.getUTCDay() + 6) % 7) + 1
    const weekend = isoWeekday >= 6
    const templates = EVENT_TEMPLATES.filter((template) => template.weekend === weekend)
    const count = random.between(2, 4)
    const used = new Set<string>()
    for (let i = 0; i < count; i++) {
      const template = random.pick(templates)
      if (used.has(template.title)) continue
      used.add(template.title)
      const startMinute = template.from + 15 * random.int((template.to - template.from) / 15 + 1)
      const startsAt = zonedTimeToUtc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), startMinute, spec.timezone)
      const endsAt = new Date(startsAt.getTime() + random.pick(template.minutes) * MINUTE_MS)
      if (startsAt.getTime() < start || endsAt.getTime() > end) continue
      events.push({ id: random.uuid(), userId: spec.userId, title: template.title, startsAt, endsAt })
    }
  }
  return events.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : 1))
}
