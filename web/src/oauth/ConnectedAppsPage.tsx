/** The Connected apps page (`/apps`): the apps the user connected through OAuth 2.0, each with what it may do and "Disconnect". */
import { useCallback, useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { ConnectedAppsQuery, RevokeConnectedApp } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { formatDateTime } from '../format.ts'
import { describeScope } from './scopes.ts'

/** Under an `ApiProvider`. */
export function ConnectedAppsPage({ onUnauthorized, userZone = null }: { onUnauthorized: () => void; userZone?: string | null }) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ConnectedAppsQuery })
  useUnauthorized(error, onUnauthorized)
  const [revoking, revoke] = useMutation(RevokeConnectedApp)
  const [announcement, setAnnouncement] = useState('')
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute])
  const apps = data?.connectedApps ?? []

  const disconnect = async (app: { id: string; name: string }) => {
    const result = await revoke({ id: app.id })
    if (result.error) {
      setAnnouncement(`Could not disconnect ${app.name}: ${apiErrorOf(result.error).message}`)
      return
    }
    setAnnouncement(`Disconnected ${app.name}.`)
    refresh()
    queueMicrotask(() => document.getElementById('apps-title')?.focus())
  }

  return (
    <article className="apps-page" aria-labelledby="apps-title">
      <h1 id="apps-title" tabIndex={-1}>
        Connected apps
      </h1>
      <p className="hint">Apps you allowed to act for you. Disconnecting one ends its access at once.</p>
      {error && !data && <p role="alert">Could not list them: {apiErrorOf(error).message}</p>}
      {!data && fetching && <p aria-busy="true">Loading…</p>}
      {data && apps.length === 0 && <p>No connected apps.</p>}
      <ul className="connected-apps">
        {apps.map((app) => (
          <li key={app.id} aria-label={app.name}>
            <h2>{app.name}</h2>
            <p className="hint">Connected {formatDateTime(app.connectedAt, userZone)}</p>
            <ul aria-label={`What ${app.name} may do`}>
              {app.scopes.map((scope) => (
                <li key={scope}>{describeScope(scope)}</li>
              ))}
            </ul>
            <button type="button" onClick={() => void disconnect(app)} disabled={revoking.fetching}>
              Disconnect {app.name}
            </button>
          </li>
        ))}
      </ul>
      <p role="status" aria-live="polite" className="visually-hidden">
        {announcement}
      </p>
    </article>
  )
}
