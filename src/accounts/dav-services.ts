/**
 * The DAV wire bound to a deployment's settings, as the account functions and the sync job use it:
 * the outbound guard (DAV_ALLOW_PRIVATE_URLS, DAV_REQUEST_TIMEOUT_MS), sessions with the OAuth client,
 * discovery, and the credential box under SECRET_KEY.
 */
import type { SyncConfig } from '../config.ts'
import { discoverCollections } from '../dav/client.ts'
import { createDavSession } from '../dav/session.ts'
import { assertPublicUrl, createOutboundFetch } from '../net/outbound-fetch.ts'
import type { DavServices } from './accounts.ts'
import { CredentialBoxError, openCredentials, sealCredentials } from './credential-box.ts'

/**
 * {@link DavServices} over the real wire. `secretKey` seals the credentials (SECRET_KEY; a process
 * without one passes a random key, and its accounts need re-authentication after a restart).
 * One guarded fetch (one connection pool) per call.
 */
export function createDavServices(sync: SyncConfig, secretKey: string, now: () => Date): DavServices {
  const outbound = { allowPrivate: sync.allowPrivateUrls, timeoutMs: sync.requestTimeoutMs }
  const fetch = createOutboundFetch(outbound)
  return {
    checkUrl: (url) => assertPublicUrl(url, outbound),
    session: (credentials, onCredentialsChanged) => createDavSession({ credentials, fetch, oauth: sync.oauth, now, onCredentialsChanged }),
    discover: (session, url, kind) => discoverCollections(session, url, kind),
    seal: (credentials) => sealCredentials(secretKey, credentials),
    open: (sealed) => openCredentials(secretKey, sealed),
    isCredentialBoxError: (error) => error instanceof CredentialBoxError,
  }
}
