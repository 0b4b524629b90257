/** Keyset streams only tests use: full contact rows (the server streams minimal rows only). */
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.ts'
import { streamWithCursor } from '../../src/contacts/keyset/contact-streams.ts'
import type { KeysetOptions } from '../../src/contacts/keyset/contact-page.ts'

const fullContactSelect = {
  id: true,
  userId: true,
  name: true,
  email: true,
  phone: true,
  linkedIn: true,
  instagram: true,
  xHandle: true,
  otherSocialMedia: true,
  location: true,
  timezone: true,
  customNotes: true,
  lastContactDate: true,
  frequencyPreference: true,
  tags: true,
  groupIds: true,
  archived: true,
  source: true,
  remoteHref: true,
  remoteEtag: true,
  lastSyncedAt: true,
  dunbarCircle: true,
  circleAssignedAt: true,
  circleConfidence: true,
  aiSuggestedCircle: true,
  nextDueAt: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.ContactSelect

/** Full contact rows, with their group ids, page by page. */
export function streamContacts(prisma: PrismaClient, options: KeysetOptions) {
  return streamWithCursor(prisma, options, fullContactSelect)
}
