/**
 * oidc-provider's storage (its `Adapter` interface) over the `OAuthPayload` table, so every process of a
 * deployment shares clients, grants, codes and tokens, on PostgreSQL and on the embedded PGlite alike.
 *
 * A leaked database does not leak usable credentials: for the kinds whose id is a bearer secret (access and
 * refresh tokens, authorization codes, sessions, interactions...), the row keeps only the SHA-256 of the id,
 * and the payload's `jti` (the same value) is left out and put back by `find` (but for sessions, found by uid too). Client ids and grant ids are
 * not secrets and stay readable (the connected apps list and revocation use them).
 */
import { createHash } from 'node:crypto'
import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { isUuid } from '../db/uuid.ts'
import { isStorableText } from '../validation.ts'

/** The model names whose ids are not secrets: stored as they are. */
const PLAIN_ID_KINDS: ReadonlySet<string> = new Set(['Client', 'Grant'])

/**
 * The secret kinds that oidc-provider also finds by another key (`findByUid`, `findByUserCode`): their rows
 * keep the `jti` in the payload (a session's id lives 10 minutes; the device flow is off), or it could not be
 * given back.
 */
const JTI_KEPT_KINDS: ReadonlySet<string> = new Set(['Session', 'DeviceCode', 'BackchannelAuthenticationRequest'])

/** Longer ids, uids or user codes are no id of ours: `find` answers nothing without asking the database. */
export const MAX_ID_LENGTH = 512

/** SHA-256 (hex) of an id of a secret kind: what the row's `id` holds. */
export function hashOAuthId(id: string): string {
  return createHash('sha256').update(id).digest('hex')
}

/** The row id of `kind`'s `id`: hashed for the secret kinds. */
export function storedOAuthId(kind: string, id: string): string {
  return PLAIN_ID_KINDS.has(kind) ? id : hashOAuthId(id)
}

/** Whether a value from a request can be looked up at all (PostgreSQL text refuses NUL and lone surrogates; bounded length). */
export function lookupable(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && isStorableText(value)
}

// eslint-disable-next-line no-control-regex -- NUL is what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * The payload as JSON PostgreSQL accepts: `undefined` members dropped (as JSON does), and NUL characters
 * and lone surrogates, which `jsonb` refuses, replaced by U+FFFD (they only come from hostile requests, e.g.
 * a `state` with %00, and must not turn into a database error).
 */
function storablePayload(payload: AdapterPayload): Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'string' ? value.replace(UNSTORABLE, '\uFFFD') : value))) as Prisma.InputJsonObject
}

function secondsToDate(epochSeconds: number | undefined): Date | null {
  return typeof epochSeconds === 'number' && Number.isFinite(epochSeconds) ? new Date(epochSeconds * 1000) : null
}

/**
 * The adapter class oidc-provider instantiates once per model name (`new Adapter('AccessToken')`), bound
 * to `prisma`. Expired rows are invisible to `find`; {@link purgeExpiredOAuthPayloads} deletes them.
 * Times are oidc-provider's own (`Date.now()`), since it computes every `exp` from that clock.
 */
export function prismaAdapter(prisma: PrismaClient): new (kind: string) => Adapter {
  return class PrismaAdapter implements Adapter {
    readonly kind: string
    constructor(kind: string) {
      this.kind = kind
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const stored = storablePayload(payload)
      if (!PLAIN_ID_KINDS.has(this.kind) && !JTI_KEPT_KINDS.has(this.kind) && stored.jti === id) delete (stored as Record<string, unknown>).jti
      const accountId = typeof payload.accountId === 'string' && isUuid(payload.accountId) ? payload.accountId : null
      const data = {
        payload: stored,
        grantId: this.kind === 'Grant' ? id : (payload.grantId ?? null),
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        accountId,
        expiresAt: expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : secondsToDate(payload.exp),
      }
      const key = { kind: this.kind, id: storedOAuthId(this.kind, id) }
      await prisma.oAuthPayload.upsert({ where: { kind_id: key }, create: { ...key, ...data }, update: data })
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (!lookupable(id)) return undefined
      const row = await prisma.oAuthPayload.findUnique({ where: { kind_id: { kind: this.kind, id: storedOAuthId(this.kind, id) } } })
      return row ? this.payloadOf(row, id) : undefined
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (!lookupable(userCode)) return undefined
      const row = await prisma.oAuthPayload.findFirst({ where: { kind: this.kind, userCode } })
      return row ? this.payloadOf(row) : undefined
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (!lookupable(uid)) return undefined
      const row = await prisma.oAuthPayload.findFirst({ where: { kind: this.kind, uid } })
      return row ? this.payloadOf(row) : undefined
    }

    async consume(id: string): Promise<void> {
      if (!lookupable(id)) return
      // The first consumption's time stays: a reuse is detected by `consumed` being set at all.
      await prisma.oAuthPayload.updateMany({ where: { kind: this.kind, id: storedOAuthId(this.kind, id), consumedAt: null }, data: { consumedAt: new Date() } })
    }

    async destroy(id: string): Promise<void> {
      if (!lookupable(id)) return
      await prisma.oAuthPayload.deleteMany({ where: { kind: this.kind, id: storedOAuthId(this.kind, id) } })
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (!lookupable(grantId)) return
      await prisma.oAuthPayload.deleteMany({ where: { kind: this.kind, grantId } })
    }

    /** The stored payload as oidc-provider wrote it (with `jti` back when `id` is given), or undefined once expired. */
    private payloadOf(row: { payload: Prisma.JsonValue; expiresAt: Date | null; consumedAt: Date | null }, id?: string): AdapterPayload | undefined {
      if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) return undefined
      const payload = { ...(row.payload as AdapterPayload) }
      if (id !== undefined && payload.jti === undefined && !PLAIN_ID_KINDS.has(this.kind)) payload.jti = id
      if (row.consumedAt !== null) payload.consumed = Math.floor(row.consumedAt.getTime() / 1000)
      return payload
    }
  }
}

/** Deletes the rows expired before `now` (any process may run it; it is idempotent). Returns how many went. */
export async function purgeExpiredOAuthPayloads(prisma: PrismaClient, now: Date): Promise<number> {
  const { count } = await prisma.oAuthPayload.deleteMany({ where: { expiresAt: { lt: now } } })
  return count
}
