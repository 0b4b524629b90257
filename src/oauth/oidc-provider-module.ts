/**
 * oidc-provider, imported at the first use of the OAuth server rather than at start. Its import prints
 * notices on the console (on Node 20: "Unsupported runtime. Use Node.js v22.x LTS": its support policy,
 * not a failure; this project runs on Node 20 and its OAuth tests pass there); those go to our log as
 * structured warnings instead, so that stderr stays free of unstructured lines.
 */
import type { Logger } from '../logger.ts'

export type OidcProviderModule = typeof import('oidc-provider')

let loading: Promise<OidcProviderModule> | undefined

/** The oidc-provider module, imported once; its `oidc-provider …` console notices are logged as warnings. */
export function importOidcProvider(logger: Logger): Promise<OidcProviderModule> {
  loading ??= (async () => {
    /* eslint-disable no-console -- the one place that intercepts a library's console output */
    const warn = console.warn
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) logger.warn({ notice: args[0] }, 'oidc-provider notice')
      else warn(...args)
    }
    try {
      return await import('oidc-provider')
    } finally {
      console.warn = warn
    }
    /* eslint-enable no-console */
  })()
  return loading
}
