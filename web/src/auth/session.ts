/**
 * Where the token comes from: a token the user signed in with (kept in
 * localStorage), else in development the demo token the server put in the page,
 * unless the user signed out of it.
 */
import type { AppConfig } from '../app-config.ts'

export const TOKEN_KEY = 'reachout.token'
/** Set on sign-out so the demo token does not sign the user straight back in. */
export const SIGNED_OUT_KEY = 'reachout.signedOut'

export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

export function initialToken(config: AppConfig, storage: TokenStorage): string | null {
  const stored = storage.getItem(TOKEN_KEY)
  if (stored) return stored
  if (config.demoToken && storage.getItem(SIGNED_OUT_KEY) === null) return config.demoToken
  return null
}

export function saveToken(storage: TokenStorage, token: string): void {
  storage.setItem(TOKEN_KEY, token)
  storage.removeItem(SIGNED_OUT_KEY)
}

export function forgetToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY)
  storage.setItem(SIGNED_OUT_KEY, '1')
}

/** A refused token is forgotten, but unlike a sign-out the demo token may sign the page in again. */
export function dropRefusedToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY)
}

/** Back to the demo token (development): nothing is stored, so the page keeps following the server's demo token. */
export function resumeDemoSession(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY)
  storage.removeItem(SIGNED_OUT_KEY)
}
