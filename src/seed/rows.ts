/** The rows the seed generator makes: the columns the bulk writer fills; every other column keeps its default. */
import type { ContactSource, DunbarCircle, FrequencyPreference } from '../generated/prisma/enums.ts'

/** A `User` row. */
export interface SeedUser {
  id: string
  email: string
  name: string
  timezone: string
  createdAt: Date
  updatedAt: Date
}

/** A `Group` row. */
export interface SeedGroup {
  id: string
  userId: string
  name: string
  createdAt: Date
  updatedAt: Date
}

/** A `Contact` row, its group ids included. */
export interface SeedContact {
  id: string
  userId: string
  name: string
  email: string | null
  phone: string | null
  /** `[email]` / `[phone]` when set (the columns every write keeps beside the primary one). */
  emails: string[]
  phones: string[]
  /** Dedupe keys of `emails` and `phones` (contacts/match-keys.ts). */
  matchKeys: string[]
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

/** An `Availability` row: one weekly window, minutes after local midnight. */
export interface SeedAvailability {
  id: string
  userId: string
  /** ISO weekday, 1 = Monday ... 7 = Sunday. */
  weekday: number
  startMinute: number
  endMinute: number
}

/** A `CalendarEvent` row: busy time. */
export interface SeedCalendarEvent {
  id: string
  userId: string
  title: string
  startsAt: Date
  endsAt: Date
}
