/**
 * The DAV wire as the sync sees it (issue 15): the shapes and errors of `dav/client.ts`, which speaks
 * WebDAV (RFC 4918), WebDAV sync (RFC 6578), CardDAV (RFC 6352) and CalDAV (RFC 4791) to the servers
 * people already use. Every request goes through a {@link DavSession}: the outbound guard
 * (net/outbound-fetch.ts), the account's credentials, and the time bound.
 */

/** Sends one HTTP request to the account's server: guarded, authenticated, time-bounded. */
export interface DavSession {
  /**
   * `fetch` with the account's `Authorization` (a bearer token is refreshed once on a 401 when the
   * account has a refresh token and the server has an OAuth client). Rejects with `UnsafeUrlError`
   * (net/outbound-fetch.ts) for a host the guard refuses, and with a `DavHttpError` on a timeout
   * (status 0) or a network error (status 0); HTTP error statuses are returned, not thrown.
   */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>
}

export type DavCollectionKind = 'ADDRESS_BOOK' | 'CALENDAR'

/** An address book or calendar found by discovery. `url` is absolute. */
export interface DavCollectionInfo {
  url: string
  displayName: string | null
  kind: DavCollectionKind
  /** DAV:sync-token, when the server offers RFC 6578 sync on it. */
  syncToken: string | null
  /** CS:getctag, when the server has one. */
  ctag: string | null
}

/** A member of a collection as a listing gives it: its href (an absolute path, as the server wrote it) and ETag. */
export interface DavMember {
  href: string
  etag: string
}

/** One change of a sync-collection report: a member created or changed (with its new ETag), or removed. */
export type DavChange = { href: string; etag: string; deleted?: false } | { href: string; deleted: true }

/** A member with its data (a vCard or an iCalendar object, as text). */
export interface DavObject {
  href: string
  etag: string
  data: string
}

/**
 * A DAV request that failed: `status` is the HTTP status (0: a timeout or a network error), `retryAfterMs`
 * the `Retry-After` of a 429 / 503 (seconds or an HTTP date, turned into milliseconds from now).
 * 401 / 403: the credentials are wrong (needs re-authentication); 5xx, 0: retry with backoff.
 */
export class DavHttpError extends Error {
  override name = 'DavHttpError'
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message)
  }
}

/** 412 on a write with If-Match / If-None-Match: the resource changed on the server since its ETag was read. */
export class PreconditionFailedError extends DavHttpError {
  override name = 'PreconditionFailedError'
  constructor(message: string) {
    super(412, message)
  }
}

/** The server refused the sync token (RFC 6578 `DAV:valid-sync-token`, 403 or 409; or 410): sync again from none. */
export class SyncTokenInvalidError extends Error {
  override name = 'SyncTokenInvalidError'
}

/** Most hrefs one multiget asks for: the first sync reads a collection in pages of this many. */
export const MULTIGET_MAX_HREFS = 200
