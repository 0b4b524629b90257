/**
 * The consent page of the OAuth 2.0 flow (`/oauth/consent/<uid>`, where the server sends the browser from
 * `/oauth/auth`): which app asks, for what, and where the browser goes back to; Allow or Deny. The server
 * answers both with the address to go to next (the app gets its code, or `access_denied`).
 */
import { useEffect, useState } from 'react'
import { useApiClient } from '../api/provider.tsx'
import { describeScope } from './scopes.ts'

interface ConsentDetails {
  uid: string
  app: { clientId: string; name: string }
  scopes: string[]
  redirectOrigin: string | null
}

type State = { phase: 'loading' } | { phase: 'ready'; details: ConsentDetails } | { phase: 'sending'; details: ConsentDetails } | { phase: 'failed'; message: string }

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { errors?: { message?: string }[] }
    return body.errors?.[0]?.message ?? `The server answered ${response.status}`
  } catch {
    return `The server answered ${response.status}`
  }
}

/** Under an `ApiProvider`: the API client carries the signed-in user's token. */
export function ConsentPage({ uid, onUnauthorized, go = (url) => window.location.assign(url) }: { uid: string; onUnauthorized: () => void; go?: (url: string) => void }) {
  const client = useApiClient()
  const [state, setState] = useState<State>({ phase: 'loading' })
  const base = `/oauth/consent/${encodeURIComponent(uid)}`

  useEffect(() => {
    let current = true
    void client.http(`${base}/details`, { headers: { accept: 'application/json' } }).then(
      async (response) => {
        if (!current) return
        if (response.status === 401) return onUnauthorized()
        if (!response.ok) return setState({ phase: 'failed', message: await errorMessage(response) })
        const details = (await response.json()) as ConsentDetails
        if (current) setState({ phase: 'ready', details })
      },
      () => current && setState({ phase: 'failed', message: 'The server could not be reached.' }),
    )
    return () => void (current = false)
  }, [client, base, onUnauthorized])

  const answer = async (action: 'confirm' | 'deny') => {
    if (state.phase !== 'ready') return
    setState({ phase: 'sending', details: state.details })
    try {
      const response = await client.http(`${base}/${action}`, { method: 'POST', headers: { accept: 'application/json' } })
      if (response.status === 401) return onUnauthorized()
      if (!response.ok) return setState({ phase: 'failed', message: await errorMessage(response) })
      go(((await response.json()) as { redirectTo: string }).redirectTo)
    } catch {
      setState({ phase: 'failed', message: 'The server could not be reached.' })
    }
  }

  return (
    <article className="consent-page" aria-labelledby="consent-title">
      {state.phase === 'loading' && (
        <h1 id="consent-title" tabIndex={-1} aria-busy="true">
          Connect an app…
        </h1>
      )}
      {state.phase === 'failed' && (
        <>
          <h1 id="consent-title" tabIndex={-1}>
            Connect an app
          </h1>
          <p role="alert">{state.message}</p>
        </>
      )}
      {(state.phase === 'ready' || state.phase === 'sending') && (
        <>
          <h1 id="consent-title" tabIndex={-1}>
            Connect {state.details.app.name}?
          </h1>
          <p>
            <strong>{state.details.app.name}</strong> asks to act for you:
          </p>
          <ul className="consent-scopes" aria-label="What the app asks for">
            {state.details.scopes.map((scope) => (
              <li key={scope}>
                {describeScope(scope)} <code>{scope}</code>
              </li>
            ))}
          </ul>
          {state.details.redirectOrigin && <p className="hint">You will go back to {state.details.redirectOrigin}. You can disconnect the app at any time under Connected apps.</p>}
          <p>
            <button type="button" onClick={() => void answer('confirm')} disabled={state.phase === 'sending'}>
              Allow
            </button>{' '}
            <button type="button" onClick={() => void answer('deny')} disabled={state.phase === 'sending'}>
              Deny
            </button>
          </p>
        </>
      )}
    </article>
  )
}
