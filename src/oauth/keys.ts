/**
 * The OAuth server's keys, derived from SECRET_KEY (HKDF-SHA256, RFC 5869, one `info` per use), so every
 * process of a deployment signs and reads the same cookies and ID tokens without sharing key files.
 */
import { createHash, createPrivateKey, hkdfSync } from 'node:crypto'
import type { JWK } from 'oidc-provider'

const SALT = Buffer.from('suggestions-server/oauth')
// An Ed25519 private key in PKCS #8 DER is this prefix followed by its 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function derive(secretKey: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), SALT, info, 32))
}

/** The Ed25519 signing key (a private JWK with `kid`, `alg: 'EdDSA'`, `use: 'sig'`) of `secretKey`; the same for the same key. */
export function oauthSigningJwk(secretKey: string): JWK {
  const seed = derive(secretKey, 'oauth-signing-ed25519-v1')
  const jwk = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' })
  const kid = createHash('sha256').update(jwk.x ?? '').digest('base64url').slice(0, 16)
  return { ...jwk, kid, alg: 'EdDSA', use: 'sig' } as JWK
}

/** The keys that sign oidc-provider's cookies (keygrip), base64url. */
export function oauthCookieKeys(secretKey: string): string[] {
  return [derive(secretKey, 'oauth-cookies-v1').toString('base64url')]
}
