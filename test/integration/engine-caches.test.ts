/**
 * The engine's caches against the database: what they serve equals a fresh read at every `now` they
 * serve (statuses that end as time goes on, free time clipped to the walk's horizon), and a write
 * through the domain functions, announced by the server's announcer, is seen by the very next read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCalendarEvent, setAvailability } from '../../src/calendar/calendar-writes.ts'
import { loadFreeSlots } from '../../src/calendar/load-free-slots.ts'
import { createChangeAnnouncer, type WriteDeps } from '../../src/changes/announce.ts'
import { ChangeVersions } from '../../src/changes/change-versions.ts'
import { logInteraction } from '../../src/contacts/contact-writes.ts'
import { createLogger } from '../../src/logger.ts'
import { createChangeBus } from '../../src/pubsub/changes.ts'
import { createEngineCaches, FREE_TIME_SLACK_MS } from '../../src/suggestions/engine-caches.ts'
import { suggestionId } from '../../src/suggestions/suggestion-id.ts'
import { loadSuggestionState, setSuggestionStatus, type SuggestionState } from '../../src/suggestions/suggestion-status.ts'
import { openTestDatabase, type TestDatabase } from '../helpers/databases.ts'
import { createUserWithContacts, FIXTURE_NOW, type FixtureUser } from '../helpers/fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const HORIZON_DAYS = 7
const at = (ms: number) => new Date(FIXTURE_NOW.getTime() + ms)
const sorted = (state: SuggestionState) => ({ excluded: [...state.excluded].sort(), taken: state.taken })

describe('the engine caches on a database', () => {
  let db: TestDatabase
  let alice: FixtureUser
  let contacts: string[]
  let versions: ChangeVersions
  let deps: WriteDeps
  let caches: ReturnType<typeof createEngineCaches>

  beforeAll(async () => {
    db = await openTestDatabase('pglite')
    alice = await createUserWithContacts(db.prisma, 'alice@example.com', 12)
    contacts = (await db.prisma.contact.findMany({ where: { userId: alice.id, archived: false }, orderBy: { id: 'asc' } })).map((c) => c.id)
    versions = new ChangeVersions()
    // The server's announcer: the user's version moves before the notice is published.
    deps = { prisma: db.prisma, announce: createChangeAnnouncer({ pubsub: createChangeBus().pubsub, jobs: { requestRegeneration: async () => {} }, logger: createLogger('silent'), versions }) }
    caches = createEngineCaches({
      prisma: db.prisma,
      versions,
      sizes: { timezoneUsers: 10, freeTimeBytes: 1 << 20, suggestionStateRows: 1000 },
      horizonDays: HORIZON_DAYS,
      dismissForMs: HORIZON_DAYS * DAY,
    })
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('serves statuses equal to a fresh read at every later `now`, as they end one by one', async () => {
    const slot = (hours: number) => ({ start: at(hours * HOUR), end: at(hours * HOUR + 30 * 60_000) })
    // Statuses set at various times before FIXTURE_NOW, ending at various times after it.
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[0]!, null), 'DISMISSED', at(-6 * DAY - 20 * HOUR))
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[1]!, null), 'SNOOZED', at(-DAY), at(5 * HOUR))
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[2]!, slot(9)), 'ACCEPTED', at(-2 * HOUR))
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[3]!, null), 'ACCEPTED', at(-3 * DAY))
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[4]!, slot(30)), 'ACCEPTED', at(-HOUR))
    // An interaction logged after contact 4's acceptance ends it; one before contact 3's does not.
    await logInteraction(deps, alice.id, contacts[3]!, { occurredAt: at(-4 * DAY) }, at(-4 * DAY))
    await logInteraction(deps, alice.id, contacts[4]!, {}, at(-HOUR / 2))

    const times = [0, 1, 4 * HOUR, 5 * HOUR, 9.5 * HOUR, 4 * DAY - 1, 4 * DAY, 8 * DAY].map(at)
    let queries = 0
    const counted = new Proxy(db.prisma, {
      get: (target, key) => (key === 'suggestion' && queries++, Reflect.get(target, key)),
    })
    const counting = createEngineCaches({ prisma: counted, versions, sizes: { timezoneUsers: 0, freeTimeBytes: 0, suggestionStateRows: 1000 }, horizonDays: HORIZON_DAYS, dismissForMs: HORIZON_DAYS * DAY })
    const served: ReturnType<typeof sorted>[] = []
    for (const now of times) served.push(sorted(await counting.suggestionState(alice.id, now)))
    expect(queries).toBe(1)
    for (const [i, now] of times.entries()) expect(served[i], now.toISOString()).toEqual(sorted(await loadSuggestionState(db.prisma, alice.id, now, HORIZON_DAYS * DAY)))
    // They do end: everything is in force at first, nothing after 8 days.
    expect(served[0]!.excluded).toHaveLength(4)
    expect(served.at(-1)).toEqual({ excluded: [], taken: [] })
  })

  it('serves free slots equal to a fresh read for walks within the slack, clipped to their horizon', async () => {
    await setAvailability(deps, alice.id, [1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, startMinute: 17 * 60 + 15, endMinute: 21 * 60 })), 'America/St_Johns')
    await addCalendarEvent(deps, alice.id, { startsAt: at(DAY + 8 * HOUR), endsAt: at(DAY + 9 * HOUR) })
    // An event just past the first walk's horizon: inside the longer range read, outside every horizon clipped below it.
    await addCalendarEvent(deps, alice.id, { startsAt: at(HORIZON_DAYS * DAY + 10 * 60_000), endsAt: at(HORIZON_DAYS * DAY + 2 * HOUR) })
    const timezone = await caches.userTimezone(alice.id)
    expect(timezone).toBe('America/St_Johns')
    for (const now of [0, 1, 7 * 60_000 + 333, FREE_TIME_SLACK_MS / 2, FREE_TIME_SLACK_MS].map(at)) {
      expect(await caches.defaultSlots(alice.id, now, timezone), now.toISOString()).toEqual(await loadFreeSlots(db.prisma, alice.id, now, HORIZON_DAYS, timezone))
    }
  })

  it('shows a write announced on this process to the very next read', async () => {
    const now = at(0)
    await caches.suggestionState(alice.id, now)
    await caches.defaultSlots(alice.id, now, await caches.userTimezone(alice.id))
    // A status, an event and a new zone, each seen at once by the caches.
    await setSuggestionStatus(deps, alice.id, suggestionId(contacts[6]!, null), 'DISMISSED', now)
    expect((await caches.suggestionState(alice.id, now)).excluded.has(contacts[6]!)).toBe(true)
    await addCalendarEvent(deps, alice.id, { startsAt: at(2 * DAY), endsAt: at(6 * DAY) })
    await setAvailability(deps, alice.id, [{ weekday: 3, startMinute: 0, endMinute: 1440 }], 'Asia/Tokyo')
    const timezone = await caches.userTimezone(alice.id)
    expect(timezone).toBe('Asia/Tokyo')
    const slots = await caches.defaultSlots(alice.id, now, timezone)
    expect(slots).toEqual(await loadFreeSlots(db.prisma, alice.id, now, HORIZON_DAYS, timezone))
    expect(slots.every((slot) => slot.end <= at(2 * DAY) || slot.start >= at(6 * DAY))).toBe(true)
    await logInteraction(deps, alice.id, contacts[2]!, {}, at(HOUR)) // ends contact 2's acceptance
    expect(sorted(await caches.suggestionState(alice.id, at(HOUR)))).toEqual(sorted(await loadSuggestionState(db.prisma, alice.id, at(HOUR), HORIZON_DAYS * DAY)))
    expect((await caches.suggestionState(alice.id, at(HOUR))).excluded.has(contacts[2]!)).toBe(false)
  })
})
