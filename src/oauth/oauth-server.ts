/**
 * The OAuth server of one process: the provider (created at its first use, once the issuer is known),
 * the access-token check that `authenticate` calls, and the hourly purge of expired rows.
 */
import type Provider from 'oidc-provider'
import type { Credential } from '../auth/authenticate.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { HOUR_MS } from '../time.ts'
import { verifyOAuthAccessToken } from './grants.ts'
import { importOidcProvider } from './oidc-provider-module.ts'
import { apiResourceOf, createOAuthProvider, OAUTH_PATH } from './provider.ts'
import { purgeExpiredOAuthPayloads } from './prisma-adapter.ts'

export interface OAuthServerOptions {
  prisma: PrismaClient
  /** SECRET_KEY (the same for every process of a deployment). */
  secretKey: string
  /** PUBLIC_URL's origin; unset: the origin the server listens at ({@link OAuthServer.listeningAt}). */
  publicUrl: string | undefined
  logger: Logger
  /** Told when the provider revokes a grant itself (a refresh token reused, an app revoking its token). */
  onGrantRevoked?: (grantId: string) => void
}

export class OAuthServer {
  private origin: string | undefined
  private instance: Promise<Provider> | undefined
  private purge: ReturnType<typeof setInterval> | undefined
  private readonly options: OAuthServerOptions

  constructor(options: OAuthServerOptions) {
    this.options = options
    this.origin = options.publicUrl
  }

  /** Sets the origin of the issuer when PUBLIC_URL is unset (app.ts calls it once listening). */
  listeningAt(origin: string): void {
    this.origin ??= origin
  }

  /** `<origin>/oauth`, or undefined before the server listens (without PUBLIC_URL). */
  get issuer(): string | undefined {
    return this.origin === undefined ? undefined : `${this.origin}${OAUTH_PATH}`
  }

  /** The provider; oidc-provider is imported and the provider created at the first call. Rejects before the issuer is known. */
  provider(): Promise<Provider> {
    if (this.instance) return this.instance
    const issuer = this.issuer
    if (issuer === undefined) return Promise.reject(new Error('the OAuth server has no issuer yet: set PUBLIC_URL, or start the server first'))
    this.instance = importOidcProvider(this.options.logger).then((oidc) => createOAuthProvider(oidc, { ...this.options, issuer, logger: this.options.logger }))
    this.purge = setInterval(() => {
      purgeExpiredOAuthPayloads(this.options.prisma, new Date()).catch((error: unknown) => this.options.logger.warn({ err: error }, 'purging expired OAuth rows failed'))
    }, HOUR_MS).unref()
    return this.instance
  }

  /**
   * The credential of an OAuth access token (grants.ts verifyOAuthAccessToken), or null. The time is the
   * system's: oidc-provider sets every expiry from `Date.now()`.
   */
  async verify(token: string): Promise<Credential | null> {
    const issuer = this.issuer
    if (issuer === undefined) return null
    return verifyOAuthAccessToken(this.options.prisma, token, { resource: apiResourceOf(issuer), now: new Date() })
  }

  /** Stops the purge timer. */
  stop(): void {
    clearInterval(this.purge)
  }
}
