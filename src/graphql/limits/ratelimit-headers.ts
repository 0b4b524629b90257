/**
 * The IETF RateLimit header fields, as draft-ietf-httpapi-ratelimit-headers-11
 * (23 May 2026, sections 3 and 4) defines them: `RateLimit-Policy` lists the
 * quota policies (`"hourly";q=10000;w=3600`), `RateLimit` the service limit of
 * each (`"hourly";r=9950;t=3412`: 9,950 units available within the next 3,412 s). Both are Structured Field Lists (RFC 9651)
 * whose items are Strings (the policy's name) with Integer and String
 * parameters. Pure: values in, field values out.
 */

/** The quota units the draft registers (section 3.1.2); absent means "requests". */
export type QuotaUnit = 'requests' | 'content-bytes' | 'concurrent-requests'

/** A quota policy: `name` (the item), `quota` (`q`), `windowSeconds` (`w`), `unit` (`qu`). */
export interface QuotaPolicy {
  name: string
  quota: number
  windowSeconds?: number | undefined
  unit?: QuotaUnit | undefined
}

/**
 * A service limit: the policy's `name`, the quota available (`r`), and the effective window (`t`): the
 * seconds within which no more than `r` can be used (the rest of a fixed window; section 4.1.2).
 */
export interface ServiceLimit {
  name: string
  remaining: number
  resetSeconds?: number | undefined
}

/** RFC 9651 Integers have at most 15 digits. */
const MAX_SF_INTEGER = 999_999_999_999_999

/** An sf-integer that the draft wants non-negative (`q`, `r`, `t`) or positive (`w`); throws RangeError otherwise. */
function integer(value: number, what: string, { positive = false } = {}): string {
  if (!Number.isSafeInteger(value) || value < (positive ? 1 : 0) || value > MAX_SF_INTEGER) {
    throw new RangeError(`${what} must be a ${positive ? 'positive' : 'non-negative'} integer of at most 15 digits, got ${value}`)
  }
  return String(value)
}

/** An sf-string (RFC 9651 section 4.1.6): printable ASCII only, `"` and `\` escaped; throws RangeError otherwise. */
export function structuredString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError(`a Structured Field String holds printable ASCII only, got ${JSON.stringify(value)}`)
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`
}

/**
 * The `RateLimit-Policy` field value of `policies`, in order: `"name";q=Q[;qu="U"][;w=W]`, joined by `, `.
 * Throws RangeError for an empty list (the draft wants a non-empty List), a name or number it cannot carry.
 */
export function formatRateLimitPolicy(policies: readonly QuotaPolicy[]): string {
  if (policies.length === 0) throw new RangeError('RateLimit-Policy is a non-empty list')
  return policies
    .map((policy) => {
      let item = `${structuredString(policy.name)};q=${integer(policy.quota, 'q')}`
      if (policy.unit !== undefined) item += `;qu=${structuredString(policy.unit)}`
      if (policy.windowSeconds !== undefined) item += `;w=${integer(policy.windowSeconds, 'w', { positive: true })}`
      return item
    })
    .join(', ')
}

/**
 * The `RateLimit` field value of `limits`, in order: `"name";r=R[;t=T]`, joined by `, `.
 * Throws RangeError for an empty list, a name or number it cannot carry.
 */
export function formatRateLimit(limits: readonly ServiceLimit[]): string {
  if (limits.length === 0) throw new RangeError('RateLimit is a non-empty list')
  return limits
    .map((limit) => {
      let item = `${structuredString(limit.name)};r=${integer(limit.remaining, 'r')}`
      if (limit.resetSeconds !== undefined) item += `;t=${integer(limit.resetSeconds, 't')}`
      return item
    })
    .join(', ')
}

/**
 * Whole seconds until `ms` have passed, rounded up so that a client waiting that long is past
 * the moment (the draft's `t` and HTTP's `Retry-After` are delay-seconds); 0 for none.
 */
export function secondsUntil(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0
}
