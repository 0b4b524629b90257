/**
 * The API client for the pages below it: urql's `Provider` (for `useQuery` and
 * `useMutation`) and the same client for the suggestions stream (`useApiClient`).
 */
import type { CombinedError } from '@urql/core'
import { createContext, useContext, useEffect, type ReactNode } from 'react'
import { Provider } from 'urql'
import type { ApiClient } from './client.ts'
import { apiErrorOf } from './errors.ts'

const ApiClientContext = createContext<ApiClient | null>(null)

/** Makes `client` the one `useQuery`, `useMutation` and {@link useApiClient} use below. */
export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return (
    <ApiClientContext value={client}>
      <Provider value={client.urql}>{children}</Provider>
    </ApiClientContext>
  )
}

/** The client of the nearest {@link ApiProvider}, for what urql does not do (the resumable stream). */
export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext)
  if (!client) throw new Error('useApiClient needs an <ApiProvider> above')
  return client
}

/** Calls `onUnauthorized` when `error` (a query's) says the token is missing, unknown or revoked. */
export function useUnauthorized(error: CombinedError | undefined, onUnauthorized: () => void): void {
  const unauthorized = error ? apiErrorOf(error).unauthorized : false
  useEffect(() => {
    if (unauthorized) onUnauthorized()
  }, [unauthorized, onUnauthorized])
}
