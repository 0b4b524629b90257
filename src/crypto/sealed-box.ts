/**
 * Secrets at rest that the server must read back (DAV credentials, webhook signing secrets), sealed under
 * SECRET_KEY: AES-256-GCM with a key from HKDF-SHA256 (RFC 5869) of SECRET_KEY, one `info` per use (so one use's
 * key never opens another's), a random 12-byte IV each time. The sealed text is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url parts); opening checks the format and the tag (tampering, or another SECRET_KEY).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** A sealed text that cannot be opened: not a v1 box, tampered with, or sealed under another SECRET_KEY. */
export class SealedBoxError extends Error {
  override name = 'SealedBoxError'
}

/** Seals and opens bytes under a SECRET_KEY, for one use. */
export interface SealedBox {
  /** `plain` sealed under `secretKey`: `v1.<iv>.<tag>.<ciphertext>`. */
  seal(secretKey: string, plain: Buffer): string
  /** The bytes `sealed` holds. @throws SealedBoxError on a bad format, a wrong key or tampering. */
  open(secretKey: string, sealed: string): Buffer
}

const VERSION = 'v1'
const BASE64URL = /^[A-Za-z0-9_-]*$/

/**
 * The box of one use: `salt` and `info` are HKDF's (a fixed salt is enough: `info` separates the uses, RFC 5869
 * §3.1). Keys derived are cached for the last few SECRET_KEYs.
 */
export function sealedBox(salt: string, info: string): SealedBox {
  const keyCache = new Map<string, Buffer>()
  const deriveKey = (secretKey: string): Buffer => {
    let key = keyCache.get(secretKey)
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.from(salt), info, 32))
      if (keyCache.size > 8) keyCache.clear()
      keyCache.set(secretKey, key)
    }
    return key
  }
  return {
    seal(secretKey, plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', deriveKey(secretKey), iv)
      const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
    },
    open(secretKey, sealed) {
      const parts = sealed.split('.')
      if (parts.length !== 4 || parts[0] !== VERSION) throw new SealedBoxError('not a sealed box (v1)')
      const [, ivText, tagText, cipherText] = parts as [string, string, string, string]
      if (![ivText, tagText, cipherText].every((part) => BASE64URL.test(part))) throw new SealedBoxError('not a sealed box (encoding)')
      const iv = Buffer.from(ivText, 'base64url')
      const tag = Buffer.from(tagText, 'base64url')
      if (iv.length !== 12 || tag.length !== 16) throw new SealedBoxError('not a sealed box (iv or tag length)')
      try {
        const decipher = createDecipheriv('aes-256-gcm', deriveKey(secretKey), iv, { authTagLength: 16 })
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(Buffer.from(cipherText, 'base64url')), decipher.final()])
      } catch {
        throw new SealedBoxError('it cannot be opened: tampered with, or sealed under another SECRET_KEY')
      }
    },
  }
}
