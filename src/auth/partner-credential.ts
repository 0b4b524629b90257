/**
 * The partner side of a {@link Credential}, as issue16.md describes it. H16a puts `SCOPES`, `Scope`,
 * `CredentialKind` and the `kind` / `scopes` fields into src/auth/scopes.ts and src/auth/authenticate.ts;
 * until that merges, the OAuth code uses these (the same names and shapes), and a merge replaces this
 * file by re-exports from there.
 */
import type { Credential } from './authenticate.ts'

/** The partner scopes (issue 16), as OAuth scope strings. */
export const SCOPES = [
  'contacts:read',
  'contacts:write',
  'suggestions:read',
  'suggestions:subscribe',
  'suggestions:write',
  'calendar:read',
  'calendar:write',
  'imports:write',
] as const
export type Scope = (typeof SCOPES)[number]
export type CredentialKind = 'session' | 'apiKey' | 'oauth'

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES)

/** Whether `value` is one of {@link SCOPES}. */
export function isScope(value: string): value is Scope {
  return SCOPE_SET.has(value)
}

/** A credential with its kind and scopes (null scopes: a user's own session, full access). */
export type KindedCredential = Credential & { kind: CredentialKind; scopes: ReadonlySet<Scope> | null }

/** The kind of any credential: one without a `kind` field (before H16a) is a session token. */
export function credentialKind(credential: Credential): CredentialKind {
  return (credential as Partial<KindedCredential>).kind ?? 'session'
}

/** Whether the credential may use `scope`: a session always (scopes null), a partner credential when granted. */
export function allowsScope(credential: Credential, scope: Scope): boolean {
  const scopes = (credential as Partial<KindedCredential>).scopes ?? null
  return scopes === null || scopes.has(scope)
}
