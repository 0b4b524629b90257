/**
 * Every write to a contact goes through here, so `nextDueAt` always matches its
 * inputs (last contact, frequency, circle). Users only ever touch their own rows:
 * another user's id is NOT_FOUND.
 */
import { z } from 'zod'
import type { Contact, Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { DunbarCircle, FrequencyPreference, InteractionKind } from '../generated/prisma/enums.ts'
import { isUuid } from '../db/uuid.ts'
import { badUserInput, notFound } from '../errors.ts'
import { DEFAULT_QUOTAS, takeQuota } from '../quotas.ts'
import { emailAddress, handle, parseInput, storableDate, storableString, text, timeZone } from '../validation.ts'
import { computeNextDueAt } from './cadence.ts'
import { MINUTE_MS } from '../time.ts'

const contactFields = {
  name: text(200),
  email: emailAddress.nullish(),
  phone: storableString().trim().regex(/^\+?[\d\s().-]{3,30}$/, 'must be a phone number').nullish(),
  linkedIn: handle.nullish(),
  instagram: handle.nullish(),
  xHandle: handle.nullish(),
  location: text(200).nullish(),
  timezone: timeZone.nullish(),
  customNotes: storableString().max(10_000).nullish(),
  // null (GraphQL) clears the tags.
  tags: z
    .array(text(50))
    .max(50)
    .nullish()
    .transform((tags) => (tags === null ? [] : tags)),
  frequencyPreference: z.enum(FrequencyPreference).nullish(),
  dunbarCircle: z.enum(DunbarCircle).nullish(),
  lastContactDate: storableDate().nullish(),
}

const createSchema = z.object(contactFields)
const updateSchema = z.object({ ...contactFields, name: contactFields.name.optional() })

export type ContactInput = z.input<typeof createSchema>
export type ContactPatch = z.input<typeof updateSchema>

function notInFuture(date: Date | null | undefined, now: Date, field: string): void {
  if (date && date.getTime() > now.getTime() + MINUTE_MS) throw badUserInput(`${field} cannot be in the future`, field)
}

async function ownContact(prisma: PrismaClient | Prisma.TransactionClient, userId: string, id: string): Promise<Contact> {
  const contact = isUuid(id) ? await prisma.contact.findFirst({ where: { id, userId } }) : null
  if (!contact) throw notFound('contact')
  return contact
}

/**
 * Creates a contact of the user, with its `nextDueAt`. Throws BAD_USER_INPUT for invalid input, and
 * QUOTA_EXCEEDED when the user owns `maxContacts` already (counted on the user's row, same transaction).
 */
export async function createContact(
  prisma: PrismaClient,
  userId: string,
  input: ContactInput,
  now: Date,
  maxContacts = DEFAULT_QUOTAS.contacts,
): Promise<Contact> {
  const data = parseInput(createSchema, input, 'input')
  notInFuture(data.lastContactDate, now, 'input.lastContactDate')
  const fields = {
    lastContactDate: data.lastContactDate ?? null,
    frequencyPreference: data.frequencyPreference ?? null,
    dunbarCircle: data.dunbarCircle ?? null,
    createdAt: now,
  }
  return prisma.$transaction(async (tx) => {
    await takeQuota(tx, userId, 'contacts', maxContacts)
    return tx.contact.create({
      data: { ...data, ...fields, userId, tags: data.tags ?? [], circleAssignedAt: data.dunbarCircle ? now : null, nextDueAt: computeNextDueAt(fields) },
    })
  })
}

export async function updateContact(prisma: PrismaClient, userId: string, id: string, patch: ContactPatch, now: Date): Promise<Contact> {
  const data = parseInput(updateSchema, patch, 'input')
  notInFuture(data.lastContactDate, now, 'input.lastContactDate')
  const contact = await ownContact(prisma, userId, id)
  const next = {
    lastContactDate: data.lastContactDate === undefined ? contact.lastContactDate : data.lastContactDate,
    frequencyPreference: data.frequencyPreference === undefined ? contact.frequencyPreference : data.frequencyPreference,
    dunbarCircle: data.dunbarCircle === undefined ? contact.dunbarCircle : data.dunbarCircle,
    createdAt: contact.createdAt,
  }
  const circleChanged = data.dunbarCircle !== undefined && data.dunbarCircle !== contact.dunbarCircle
  return prisma.contact.update({
    where: { id: contact.id },
    data: {
      ...Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)),
      ...(circleChanged ? { circleAssignedAt: now } : {}),
      nextDueAt: computeNextDueAt(next),
    },
  })
}

export async function archiveContact(prisma: PrismaClient, userId: string, id: string, archived: boolean): Promise<Contact> {
  const contact = await ownContact(prisma, userId, id)
  return prisma.contact.update({ where: { id: contact.id }, data: { archived } })
}

const interactionSchema = z.object({
  // null (GraphQL's "not given") means the defaults: now, OTHER.
  occurredAt: storableDate().nullish(),
  kind: z.enum(InteractionKind).nullish(),
  note: storableString().max(10_000).nullish(),
})

/** Logs a touch; when it is the latest, it moves lastContactDate and so nextDueAt. One transaction. */
export async function logInteraction(
  prisma: PrismaClient,
  userId: string,
  contactId: string,
  input: z.input<typeof interactionSchema>,
  now: Date,
): Promise<Contact> {
  const data = parseInput(interactionSchema, input, 'input')
  const occurredAt = data.occurredAt ?? now
  notInFuture(occurredAt, now, 'input.occurredAt')
  return prisma.$transaction(async (tx) => {
    const contact = await ownContact(tx, userId, contactId)
    await tx.interaction.create({
      // createdAt on the caller's clock: an acceptance ends with the first interaction logged after it (suggestion-status.ts).
      data: { userId, contactId: contact.id, occurredAt, kind: data.kind ?? 'OTHER', note: data.note ?? null, createdAt: now },
    })
    if (contact.lastContactDate && contact.lastContactDate >= occurredAt) return contact
    return tx.contact.update({
      where: { id: contact.id },
      data: { lastContactDate: occurredAt, nextDueAt: computeNextDueAt({ ...contact, lastContactDate: occurredAt }) },
    })
  })
}

/** Replaces the contact's groups; every group must be the user's own. */
export async function setContactGroups(prisma: PrismaClient, userId: string, contactId: string, groupIds: string[]): Promise<Contact> {
  const unique = [...new Set(groupIds)]
  if (unique.length > 100) throw badUserInput('at most 100 groups', 'groupIds')
  const contact = await ownContact(prisma, userId, contactId)
  const owned = unique.every(isUuid) ? await prisma.group.count({ where: { userId, id: { in: unique } } }) : -1
  if (owned !== unique.length) throw notFound('group')
  return prisma.contact.update({ where: { id: contact.id }, data: { groupIds: unique } })
}

/** Creates a group of the user. Throws BAD_USER_INPUT for a bad or taken name, QUOTA_EXCEEDED past `maxGroups`. */
export async function createGroup(prisma: PrismaClient, userId: string, name: string, maxGroups = DEFAULT_QUOTAS.groups) {
  const clean = parseInput(text(100), name, 'name')
  const exists = async (client: Pick<PrismaClient, 'group'>) => {
    if (await client.group.findFirst({ where: { userId, name: clean }, select: { id: true } })) {
      throw badUserInput(`a group named "${clean}" exists`, 'name')
    }
  }
  await exists(prisma)
  return prisma.$transaction(async (tx) => {
    // Taking the quota locks the user's row: concurrent creates of one name run one after the other,
    // and the later ones see the first here (instead of failing on the unique index).
    await takeQuota(tx, userId, 'groups', maxGroups)
    await exists(tx)
    return tx.group.create({ data: { userId, name: clean } })
  })
}
