/**
 * The Accounts page (`/accounts`): the CardDAV and CalDAV accounts the user connected, each
 * with its status, last sync, counts, "Sync now", its collection picker and "Disconnect"; and
 * the form that connects another (after which the picker of the new account opens).
 */
import { useCallback, useRef, useState } from 'react'
import { useQuery } from 'urql'
import { AccountsQuery } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { collectionCount, COLLECTION_NOUNS, type Account } from './account-state.ts'
import { AccountRow } from './AccountRow.tsx'
import { ConnectForm, type ConnectPrefill } from './ConnectForm.tsx'
import '../contacts/contacts.css'
import './accounts.css'

export interface AccountsPageProps {
  onUnauthorized: () => void
  /** The user's IANA zone for the times (the browser's when null). */
  userZone?: string | null
}

/** Under an `ApiProvider`. */
export function AccountsPage({ onUnauthorized, userZone = null }: AccountsPageProps) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: AccountsQuery })
  useUnauthorized(error, onUnauthorized)
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute])
  const [announcement, setAnnouncement] = useState('')
  // The account just connected: its picker opens (several collections) or its first sync is followed (one).
  const [connected, setConnected] = useState<{ id: string; pick: boolean } | null>(null)
  const [prefill, setPrefill] = useState<ConnectPrefill | null>(null)
  const [formKey, setFormKey] = useState(0)
  const formSection = useRef<HTMLElement>(null)
  const accounts = data?.accounts ?? []

  const onConnected = (account: Account) => {
    const enabled = account.collections.filter((collection) => collection.enabled).length
    const found = collectionCount(account.kind, account.collections.length)
    setConnected({ id: account.id, pick: account.collections.length > 1 })
    setPrefill(null)
    setFormKey((key) => key + 1)
    setAnnouncement(
      enabled > 0
        ? `Connected ${account.url}: found ${found}, syncing now.`
        : `Connected ${account.url}: found ${found}. Choose the ${COLLECTION_NOUNS[account.kind].many} to sync.`,
    )
    refresh()
  }
  const onReconnect = (account: Account) => {
    setPrefill({ kind: account.kind, url: account.url, reconnecting: true })
    setFormKey((key) => key + 1)
    formSection.current?.scrollIntoView?.({ block: 'start' })
  }
  const onDisconnected = (account: Account) => {
    setAnnouncement(`Disconnected ${account.url}.`)
    refresh()
    // The row went away with the focus: the page's heading takes it.
    queueMicrotask(() => document.getElementById('accounts-title')?.focus())
  }

  return (
    <article className="accounts-page" aria-labelledby="accounts-title">
      <h1 id="accounts-title" tabIndex={-1}>
        Accounts
      </h1>
      <p className="hint">Keep your contacts and busy times in step with iCloud, Fastmail, Nextcloud or any CardDAV / CalDAV server. They sync every few minutes, and when you ask.</p>
      <section aria-labelledby="accounts-list-title">
        <h2 id="accounts-list-title">Connected accounts</h2>
        {error && !data && <p role="alert">Could not list them: {apiErrorOf(error).message}</p>}
        {!data && fetching && <p aria-busy="true">Loading…</p>}
        {data && accounts.length === 0 && <p>No accounts yet: connect one below.</p>}
        <ul className="accounts">
          {accounts.map((account) => (
            <AccountRow
              key={account.id}
              account={account}
              userZone={userZone}
              pickOnMount={connected?.id === account.id && connected.pick}
              followOnMount={connected?.id === account.id && account.collections.some((collection) => collection.enabled)}
              onRefresh={refresh}
              onReconnect={onReconnect}
              onAnnounce={setAnnouncement}
              onDisconnected={onDisconnected}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </ul>
      </section>
      <section ref={formSection} aria-label="Connect">
        <ConnectForm key={formKey} prefill={prefill} onConnected={onConnected} onUnauthorized={onUnauthorized} />
      </section>
      <p role="status" className="hint announcement" data-testid="accounts-announcement">
        {announcement}
      </p>
    </article>
  )
}
