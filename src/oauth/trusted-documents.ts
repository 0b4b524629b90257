/**
 * Trusted documents of partner apps (issue 16, persisted operations): an app's developer registers the
 * GraphQL documents the app sends, and the app's tokens may then send only a document's id. An app set
 * to `trustedDocumentsOnly` runs nothing else. A document's id is the SHA-256 (lowercase hex) of its
 * text exactly as registered (UTF-8); the ids resolve only among that app's documents, for that app's
 * OAuth tokens (`Credential.clientId`). Rows live in `TrustedDocument` and `OAuthAppSettings`, deleted
 * with the app's `OAuthPayload` row (foreign keys, ON DELETE CASCADE).
 */
import { createHash } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { badUserInput, ClientError, notFound } from '../errors.ts'
import { isStorableText } from '../validation.ts'
import { lookupable } from './prisma-adapter.ts'

/** Documents one registration may carry. */
export const MAX_DOCUMENTS_PER_CALL = 200
/** Documents one app may hold. */
export const MAX_DOCUMENTS_PER_APP = 1000

const SHA256_HEX = /^[0-9a-f]{64}$/i
/** The GraphQL-over-HTTP form of an id (`documentId`): the hash algorithm, a colon, the hex digest. */
const PREFIXED = /^sha256:([0-9a-f]{64})$/i

/** The id of a document: SHA-256 of its text (UTF-8), lowercase hex, as Apollo's persisted queries compute it. */
export function trustedDocumentId(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/**
 * The id a client sent, normalized (lowercase hex), or null when it is not one of ours: either 64 hex digits
 * (Apollo's `extensions.persistedQuery.sha256Hash`) or `sha256:<64 hex>` (GraphQL over HTTP's `documentId`).
 */
export function normalizeDocumentId(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 71) return null
  const hex = SHA256_HEX.test(value) ? value : PREFIXED.exec(value)?.[1]
  return hex ? hex.toLowerCase() : null
}

/** Who registers: the app's developer (`ownerId`), or an operator through the CLI (`ownerId` null: any app). */
export interface AppOwner {
  clientId: string
  ownerId: string | null
}

/** The app `clientId` if `ownerId` registered it (any app for null); NOT_FOUND otherwise, the same for unknown and another's. */
async function ownApp(prisma: Pick<PrismaClient, 'oAuthPayload'>, { clientId, ownerId }: AppOwner): Promise<void> {
  if (!lookupable(clientId)) throw notFound('app')
  const app = await prisma.oAuthPayload.findUnique({ where: { kind_id: { kind: 'Client', id: clientId } }, select: { accountId: true } })
  if (!app || (ownerId !== null && app.accountId !== ownerId)) throw notFound('app')
}

/** What a registration needs besides the documents: the byte limit and the GraphQL check (parse, validate against the schema). */
export interface DocumentChecks {
  /** MAX_DOCUMENT_BYTES: a longer document (UTF-8) is refused. */
  maxDocumentBytes: number
  /** The reason `text` does not parse or validate (undefined: it does); GraphQL's layer supplies it. */
  check(text: string): string | undefined
}

/**
 * Registers `documents` as the app's trusted documents and returns their ids, in order. Idempotent: a text
 * registered before keeps its id and row. At most {@link MAX_DOCUMENTS_PER_CALL} a call and
 * {@link MAX_DOCUMENTS_PER_APP} an app (counted in a transaction holding the app's row, so two registrations
 * cannot both take the last places).
 *
 * @throws ClientError NOT_FOUND (unknown app, or not the owner's), BAD_USER_INPUT (`documents`, or
 *   `documents.<i>` for a document too large, empty, or that does not parse or validate), QUOTA_EXCEEDED
 *   (`limit`, `resource: "trustedDocuments"`).
 */
export async function registerTrustedDocuments(prisma: PrismaClient, owner: AppOwner, documents: readonly string[], checks: DocumentChecks): Promise<string[]> {
  if (documents.length === 0 || documents.length > MAX_DOCUMENTS_PER_CALL) {
    throw new ClientError('BAD_USER_INPUT', `from 1 to ${MAX_DOCUMENTS_PER_CALL} documents a call`, { field: 'documents', limit: MAX_DOCUMENTS_PER_CALL })
  }
  await ownApp(prisma, owner)
  documents.forEach((text, index) => {
    const field = `documents.${index}`
    if (Buffer.byteLength(text, 'utf8') > checks.maxDocumentBytes) {
      throw new ClientError('BAD_USER_INPUT', `a document has at most ${checks.maxDocumentBytes} bytes`, { field, limit: checks.maxDocumentBytes })
    }
    if (text.trim() === '' || !isStorableText(text)) throw badUserInput('a document is non-empty storable text', field)
    const problem = checks.check(text)
    if (problem !== undefined) throw badUserInput(problem, field)
  })
  const ids = documents.map(trustedDocumentId)
  const unique = new Map(ids.map((id, index) => [id, documents[index]!]))
  await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "OAuthPayload" WHERE kind = 'Client' AND id = ${owner.clientId} FOR UPDATE`
    const known = await tx.trustedDocument.findMany({ where: { clientId: owner.clientId, id: { in: [...unique.keys()] } }, select: { id: true } })
    for (const { id } of known) unique.delete(id)
    if (unique.size === 0) return
    const held = await tx.trustedDocument.count({ where: { clientId: owner.clientId } })
    if (held + unique.size > MAX_DOCUMENTS_PER_APP) {
      throw new ClientError('QUOTA_EXCEEDED', `at most ${MAX_DOCUMENTS_PER_APP} trusted documents per app (it holds ${held})`, {
        limit: MAX_DOCUMENTS_PER_APP,
        resource: 'trustedDocuments',
      })
    }
    await tx.trustedDocument.createMany({ data: [...unique].map(([id, document]) => ({ clientId: owner.clientId, id, document })), skipDuplicates: true })
  })
  return ids
}

/**
 * Sets whether the app's tokens may send only its trusted documents (`true`) or any document. Applies to the
 * next request of every process (each request reads it).
 *
 * @throws ClientError NOT_FOUND (unknown app, or not the owner's).
 */
export async function setTrustedDocumentsOnly(prisma: PrismaClient, owner: AppOwner, trustedDocumentsOnly: boolean): Promise<void> {
  await ownApp(prisma, owner)
  await prisma.oAuthAppSettings.upsert({ where: { clientId: owner.clientId }, create: { clientId: owner.clientId, trustedDocumentsOnly }, update: { trustedDocumentsOnly } })
}

/** The text of the app's trusted document `id` (normalized: see {@link normalizeDocumentId}), or null. One indexed read. */
export async function findTrustedDocument(prisma: PrismaClient, clientId: string, id: string): Promise<string | null> {
  const row = await prisma.trustedDocument.findUnique({ where: { clientId_id: { clientId, id } }, select: { document: true } })
  return row?.document ?? null
}

/** Whether the app runs its trusted documents only. One indexed read. */
export async function isTrustedDocumentsOnly(prisma: PrismaClient, clientId: string): Promise<boolean> {
  const row = await prisma.oAuthAppSettings.findUnique({ where: { clientId }, select: { trustedDocumentsOnly: true } })
  return row?.trustedDocumentsOnly ?? false
}

/** The app's settings as its owner sees them: the flag and how many documents it holds. */
export async function trustedDocumentsOf(prisma: PrismaClient, owner: AppOwner): Promise<{ trustedDocumentsOnly: boolean; count: number }> {
  await ownApp(prisma, owner)
  const [trustedDocumentsOnly, count] = await Promise.all([isTrustedDocumentsOnly(prisma, owner.clientId), prisma.trustedDocument.count({ where: { clientId: owner.clientId } })])
  return { trustedDocumentsOnly, count }
}
