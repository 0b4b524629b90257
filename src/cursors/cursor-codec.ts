/**
 * One codec for every opaque cursor the API hands out (the contact keyset
 * cursor, the suggestions resume cursor, the pages of imports and of their errors, of a contact's
 * interactions and of the suggestions by status). A cursor is
 * `base64url(JSON payload) "." base64url(HMAC-SHA256)`:
 *
 * - tamper-evident: the MAC covers the payload and is compared in constant
 *   time, so a client can neither forge a position nor set the clock a ranking
 *   replays (the key is `SECRET_KEY`, shared by every process of a deployment);
 * - bound: the payload names its kind and a digest of its scope (the user and
 *   the query it came from), and a cursor is refused for any other scope;
 * - versioned (`v`) and zod-checked after the MAC, as defence in depth.
 *
 * Every refusal is BAD_USER_INPUT naming the argument, never a database error.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { badUserInput } from '../errors.ts'

/** The payload version this code writes and reads. */
export const CURSOR_VERSION = 1
/** Longer input is refused before any decoding (a real cursor is a few hundred characters). */
export const MAX_CURSOR_LENGTH = 4096
/** SECRET_KEY must be at least this long (characters). */
export const MIN_SECRET_KEY_LENGTH = 32

/** What a cursor points into; a cursor of one kind is never accepted as another. */
const CURSOR_KINDS = ['contacts', 'suggestions', 'imports', 'import-errors', 'interactions', 'suggestion-statuses', 'webhook-deliveries'] as const
export type CursorKind = (typeof CURSOR_KINDS)[number]

const envelopeSchema = z.strictObject({
  v: z.literal(CURSOR_VERSION),
  // One list with the type: a kind added there is read back here.
  k: z.enum(CURSOR_KINDS),
  /** Digest of the scope (user and query) the cursor was made for. */
  s: z.string().length(22),
  d: z.unknown(),
})

let macKey: Buffer | undefined

/** The cursor MAC key from SECRET_KEY (HKDF, so other uses of the secret get other keys). */
function deriveMacKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'suggestions-server', 'cursor-codec v1', 32))
}

/**
 * Sets the process's cursor key from `SECRET_KEY` (at least 32 characters;
 * throws a plain Error otherwise: a configuration bug). Until it is called the
 * process uses a random key of its own, so cursors work within one process
 * (tests) but not across processes or restarts.
 */
export function useCursorSecret(secret: string): void {
  if (secret.length < MIN_SECRET_KEY_LENGTH) throw new Error(`the cursor secret must have at least ${MIN_SECRET_KEY_LENGTH} characters`)
  macKey = deriveMacKey(secret)
}

function currentKey(): Buffer {
  macKey ??= randomBytes(32)
  return macKey
}

function mac(payload: string): Buffer {
  return createHmac('sha256', currentKey()).update(payload).digest()
}

/** A digest of a cursor's scope, made once by {@link scopeDigest} and used for every cursor of a walk. */
export type ScopeDigest = string & { readonly __scope: unique symbol }

/**
 * A short digest of a scope: the values a cursor is bound to (user id, order,
 * filter, input...). Keys of plain objects are sorted, so the same scope
 * always gives the same digest. Computed once per walk, not per cursor.
 */
export function scopeDigest(scope: unknown): ScopeDigest {
  return createHash('sha256').update(canonicalJson(scope)).digest().subarray(0, 16).toString('base64url') as ScopeDigest
}

/** JSON with the keys of every plain object sorted; `undefined` members are left out as JSON does. */
function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** Makes a signed cursor of `kind` for `scope` carrying `data` (JSON-serialisable). */
export function encodeCursor(kind: CursorKind, scope: ScopeDigest, data: unknown): string {
  const payload = Buffer.from(JSON.stringify({ v: CURSOR_VERSION, k: kind, s: scope, d: data })).toString('base64url')
  return `${payload}.${mac(payload).toString('base64url')}`
}

/**
 * Reads a cursor made by {@link encodeCursor}: checks its length and shape,
 * its MAC (constant time), its kind and version, its scope, then its data with
 * `schema`. Throws BAD_USER_INPUT naming `field` on any failure.
 */
export function decodeCursor<T>(kind: CursorKind, scope: ScopeDigest, cursor: string, schema: z.ZodType<T>, field: string): T {
  const invalid = (why: string) => badUserInput(`invalid cursor: ${why}`, field)
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw invalid('not a cursor of this server')
  const parts = cursor.split('.')
  if (parts.length !== 2 || !/^[\w-]+$/.test(parts[0]!) || !/^[\w-]{43}$/.test(parts[1]!)) throw invalid('not a cursor of this server')
  const [payload, signature] = parts as [string, string]
  const given = Buffer.from(signature, 'base64url')
  const expected = mac(payload)
  // Canonical base64url only: the last character carries unused bits, and a cursor with them changed is not ours.
  const canonical = given.toString('base64url') === signature
  if (!canonical || given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('it was altered or made by another server')
  let envelope: z.infer<typeof envelopeSchema>
  try {
    envelope = envelopeSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')))
  } catch {
    throw invalid('unknown format')
  }
  if (envelope.k !== kind) throw invalid(`it is a cursor of ${envelope.k}, not of ${kind}`)
  if (envelope.s !== scope) throw invalid('it belongs to another user or another query (other filter, order or input): start again without it')
  const data = schema.safeParse(envelope.d)
  if (!data.success) throw invalid('unknown format')
  return data.data
}
