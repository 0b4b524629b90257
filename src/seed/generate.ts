/**
 * Realistic, deterministic demo and benchmark data for one user. Pure: no
 * `Math.random`, no clock (`now` is passed in), no database. The same seed and
 * `now` give the same rows, byte for byte, whatever the chunk size.
 *
 * This module is the generator's public surface; its parts are
 * ./random.ts (the seeded PRNG), ./rows.ts (the row types),
 * ./vocabulary.ts (names, places, tags, notes), ./users.ts (the user and
 * their groups), ./dunbar.ts (circles), ./contacts.ts (contacts in chunks) and
 * ./calendar.ts (availability, events, local time to UTC).
 */
export { Random, weightedTable, type WeightedTable } from './random.ts'
export type { SeedAvailability, SeedCalendarEvent, SeedContact, SeedGroup, SeedUser } from './rows.ts'
export { SEED_TIME_ZONES } from './vocabulary.ts'
export { generateGroups, generateUser, SEED_GROUP_NAMES, type UserSpec } from './users.ts'
export { dunbarBounds, dunbarCircleAt, DUNBAR_LAYERS } from './dunbar.ts'
export { CONTACT_BLOCK_SIZE, contactRange, generateContactChunks, type ContactsSpec } from './contacts.ts'
export { generateAvailability, generateCalendarEvents, zonedTimeToUtc } from './calendar.ts'
