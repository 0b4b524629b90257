/**
 * One connected account on the Accounts page: its kind, URL, status (a reconnect call to action
 * when the server refused its credentials), last sync, last error and counts; "Sync now" followed
 * live over the `syncProgress` subscription, which ends after the run's FINISHED (polling `accounts`
 * every few seconds when the stream fails or ends before it); the picker of its address books or
 * calendars; "Disconnect" after a confirmation in the row.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react'
import { useMutation } from 'urql'
import { DisconnectAccount, SetAccountCollections, SyncAccount, SyncProgressSubscription } from '../api/documents.ts'
import { ApiError, apiErrorOf } from '../api/errors.ts'
import { useApiClient } from '../api/provider.tsx'
import { formatDate, formatTime } from '../format.ts'
import { FieldError, formErrorsOf, invalidProps, NO_ERRORS, type FormErrors } from '../forms/field-errors.tsx'
import {
  COLLECTION_NOUNS,
  collectionCount,
  countsText,
  KIND_LABELS,
  POLL_INTERVAL_MS,
  progressText,
  STATUS_LABELS,
  STATUS_TONES,
  syncIsOver,
  type Account,
  type Following,
  type SyncEvent,
} from './account-state.ts'

/** Every account write: the `accounts` list asks again (a disconnect answers a Boolean, which names no type). */
export const ACCOUNT_WRITE = { additionalTypenames: ['Account'] }

/** The message of a row action's error: NOT_FOUND means the account is gone (another tab disconnected it). */
export function rowProblem(action: string, error: ApiError): string {
  if (error.code === 'NOT_FOUND') return `Could not ${action}: this account is no longer connected. Reload the page.`
  return `Could not ${action}: ${error.message}`
}

/**
 * Follows `accountId`'s sync while `run` (which follow this is) is set: the latest event (null
 * before the first) with the account `current` held when it came and the run it belongs to,
 * and whether the stream ended (with its error, if it failed). A rejected token calls `onUnauthorized`.
 */
function useSyncProgress(accountId: string, run: number | null, current: RefObject<Account>, onUnauthorized: () => void) {
  const client = useApiClient()
  // Each event with the account the page had when it came: shown until `accounts` answers anew.
  const [latest, setLatest] = useState<{ event: SyncEvent; prop: Account; run: number } | null>(null)
  const [ended, setEnded] = useState<{ error: ApiError | null; run: number } | null>(null)
  const unauthorized = useRef(onUnauthorized)
  useEffect(() => {
    unauthorized.current = onUnauthorized
  })
  useEffect(() => {
    if (run === null) return
    return client.subscribe(
      SyncProgressSubscription,
      { accountId },
      {
        next: (data) => setLatest({ event: data.syncProgress, prop: current.current, run }),
        error: (error) => {
          if (error.unauthorized) unauthorized.current()
          setEnded({ error, run })
        },
        complete: () => setEnded({ error: null, run }),
      },
    )
  }, [client, accountId, run])
  return { latest, ended }
}

/** Checkboxes of the account's collections; saves the checked URLs with setAccountCollections. */
function CollectionPicker({ account, onSaved, onCancel }: { account: Account; onSaved: (account: Account) => void; onCancel: () => void }) {
  const formId = useId().replaceAll(':', '')
  const [chosen, setChosen] = useState(() => new Set(account.collections.filter((collection) => collection.enabled).map((collection) => collection.url)))
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS)
  const [{ fetching }, save] = useMutation(SetAccountCollections)
  const first = useRef<HTMLInputElement>(null)
  useEffect(() => first.current?.focus(), [])
  const noun = COLLECTION_NOUNS[account.kind].many
  const toggle = (url: string, on: boolean) =>
    setChosen((before) => {
      const next = new Set(before)
      if (on) next.add(url)
      else next.delete(url)
      return next
    })
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (fetching) return
    setErrors(NO_ERRORS)
    // In the account's order, whatever order they were ticked in.
    const collectionUrls = account.collections.map((collection) => collection.url).filter((url) => chosen.has(url))
    const result = await save({ id: account.id, collectionUrls }, ACCOUNT_WRITE)
    if (result.data) return onSaved(result.data.setAccountCollections)
    if (!result.error) return setErrors({ fields: {}, form: 'Could not save: no answer.' })
    const found = formErrorsOf(result.error, ['collectionUrls'])
    setErrors(found.form === null ? found : { fields: {}, form: rowProblem('save the choice', apiErrorOf(result.error)) })
  }
  const cancelOnEscape = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return
    event.preventDefault()
    onCancel()
  }
  return (
    <form className="collection-picker" onSubmit={submit} onKeyDown={cancelOnEscape} aria-label={`Choose the ${noun} of ${account.url} to sync`}>
      <fieldset className="form-row" {...invalidProps(formId, 'collectionUrls', errors)}>
        <legend>{noun[0]!.toUpperCase() + noun.slice(1)} to sync</legend>
        {account.collections.length === 0 && <p className="hint">None found.</p>}
        <ul className="collections">
          {account.collections.map((collection, index) => (
            <li key={collection.url}>
              <label className="check">
                <input
                  ref={index === 0 ? first : undefined}
                  type="checkbox"
                  checked={chosen.has(collection.url)}
                  onChange={(event) => toggle(collection.url, event.target.checked)}
                />
                <span>
                  {collection.displayName ?? collection.url}
                  {collection.displayName && <span className="hint url"> {collection.url}</span>}
                </span>
              </label>
            </li>
          ))}
        </ul>
        <FieldError formId={formId} field="collectionUrls" errors={errors} />
      </fieldset>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" aria-disabled={fetching}>
          {fetching ? 'Saving…' : `Save ${noun}`}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}

/** "Disconnect …? …" with the button that does it and one that keeps the account; Escape keeps it. */
function ConfirmDisconnect({ account, onDisconnected, onCancel }: { account: Account; onDisconnected: () => void; onCancel: () => void }) {
  const [{ fetching }, disconnect] = useMutation(DisconnectAccount)
  const [problem, setProblem] = useState<string | null>(null)
  const confirm = useRef<HTMLButtonElement>(null)
  useEffect(() => confirm.current?.focus(), [])
  const question = `Disconnect ${account.url}? Its saved password is deleted. ${account.kind === 'CARDDAV' ? 'Its contacts stay here as your own contacts.' : 'Its busy times are removed.'}`
  const run = async () => {
    if (fetching) return
    setProblem(null)
    const result = await disconnect({ id: account.id }, ACCOUNT_WRITE)
    // NOT_FOUND: already gone, which is what was asked.
    if (result.data?.disconnectAccount || (result.error && apiErrorOf(result.error).code === 'NOT_FOUND')) return onDisconnected()
    setProblem(rowProblem('disconnect', result.error ? apiErrorOf(result.error) : new ApiError('No answer.', 'UNKNOWN')))
  }
  return (
    <div
      className="inline-form"
      role="group"
      aria-label={question}
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return
        event.preventDefault()
        onCancel()
      }}
    >
      <span>{question}</span>
      <span className="actions">
        <button type="button" className="danger" ref={confirm} onClick={() => void run()} aria-disabled={fetching}>
          {fetching ? 'Disconnecting…' : 'Disconnect'}
        </button>
        <button type="button" onClick={onCancel}>
          Keep it
        </button>
      </span>
      {problem && (
        <span className="error" role="alert">
          {problem}
        </span>
      )}
    </div>
  )
}

export interface AccountRowProps {
  account: Account
  userZone: string | null
  /** Open the collection picker at once (just connected with several collections). */
  pickOnMount?: boolean
  /** Follow a sync at once (just connected or chosen: the server syncs it). */
  followOnMount?: boolean
  /** Ask `accounts` again from the network. */
  onRefresh: () => void
  /** Connect this account again (the server refused its credentials). */
  onReconnect: (account: Account) => void
  /** Says what happened (the page's polite live region). */
  onAnnounce: (message: string) => void
  onDisconnected: (account: Account) => void
  onUnauthorized: () => void
}

/** Under an `ApiProvider`. */
export function AccountRow({ account, userZone, pickOnMount = false, followOnMount = false, onRefresh, onReconnect, onAnnounce, onDisconnected, onUnauthorized }: AccountRowProps) {
  const titleId = useId().replaceAll(':', '')
  const [open, setOpen] = useState<'picker' | 'disconnect' | null>(pickOnMount ? 'picker' : null)
  // Each follow is a run: a new one ignores the events and the end of the one before.
  const runs = useRef(0)
  const [following, setFollowing] = useState<(Following & { run: number }) | null>(() =>
    followOnMount ? { run: 0, requested: { lastSyncedAt: account.lastSyncedAt ?? null }, sawSyncing: false } : account.status === 'SYNCING' ? { run: 0, sawSyncing: true } : null,
  )
  const follow = (after: Account) => setFollowing({ run: ++runs.current, requested: { lastSyncedAt: after.lastSyncedAt ?? null }, sawSyncing: after.status === 'SYNCING' })
  const [problem, setProblem] = useState<string | null>(null)
  const [{ fetching: requesting }, requestSync] = useMutation(SyncAccount)
  const current = useRef(account)
  useEffect(() => {
    current.current = account
  })
  const { latest, ended } = useSyncProgress(account.id, following?.run ?? null, current, onUnauthorized)
  // The account the latest event carried: shown while its run is followed, and after until `accounts` answers anew.
  const live = latest && (following ? latest.run === following.run : latest.prop === account) ? latest.event : null
  const shown = live?.account ?? account

  // The end of a followed sync: from the stream, or from `accounts` polled once the stream is gone.
  // The server ends the stream right after FINISHED: that end is the sync's, not a lost stream.
  const streamGone = following !== null && ended?.run === following.run && !ended.error?.unauthorized && live?.phase !== 'FINISHED'
  useEffect(() => {
    if (!following) return
    const seen = streamGone || !live ? account : live.account
    if (seen.status === 'SYNCING' && !following.sawSyncing) return setFollowing({ ...following, sawSyncing: true })
    if (!syncIsOver(following, seen, streamGone ? null : (live?.phase ?? null))) return
    setFollowing(null)
    onRefresh()
    if (following.requested || following.sawSyncing) onAnnounce(`${account.url}: ${seen.status === 'SYNCING' || seen.status === 'OK' ? 'sync finished' : STATUS_LABELS[seen.status].toLowerCase()}.`)
  }, [following, live, account, streamGone, onRefresh, onAnnounce])
  useEffect(() => {
    if (!following || !streamGone) return
    const timer = setInterval(onRefresh, POLL_INTERVAL_MS)
    return () => clearInterval(timer)
  }, [following, streamGone, onRefresh])

  const syncNow = async () => {
    if (requesting || following || enabled === 0) return
    setProblem(null)
    const result = await requestSync({ id: account.id }, ACCOUNT_WRITE)
    if (!result.data) {
      const error = result.error ? apiErrorOf(result.error) : null
      if (error?.unauthorized) onUnauthorized()
      return setProblem(rowProblem('sync', error ?? (new ApiError('No answer.', 'UNKNOWN'))))
    }
    const synced = result.data.syncAccount
    follow(synced)
  }

  // A form that closes gives focus back to the button that opened it, once that button is back.
  const opener = useRef<HTMLButtonElement>(null)
  const disconnectButton = useRef<HTMLButtonElement>(null)
  const [refocus, setRefocus] = useState<RefObject<HTMLButtonElement | null> | null>(null)
  useEffect(() => {
    if (open !== null || !refocus) return
    refocus.current?.focus()
    setRefocus(null)
  }, [open, refocus])
  const close = (focus: RefObject<HTMLButtonElement | null>) => {
    setOpen(null)
    setRefocus(focus)
  }

  const enabled = shown.collections.filter((collection) => collection.enabled).length
  const noun = COLLECTION_NOUNS[shown.kind].many
  const status = following && shown.status !== 'SYNCING' ? null : shown.status
  const progress = following && live ? progressText(live) : null
  return (
    <li className="account" aria-labelledby={titleId} data-testid="account">
      <div className="account-head">
        <span className="account-kind">{KIND_LABELS[shown.kind]}</span>
        <span id={titleId} className="account-url">
          {shown.url}
        </span>
        <span className={`badge ${status ? STATUS_TONES[status] : 'warn'}`} data-testid="account-status">
          {status ? STATUS_LABELS[status] : 'Sync requested…'}
        </span>
      </div>
      <p className="meta">
        {shown.lastSyncedAt ? `Last synced ${formatDate(shown.lastSyncedAt, userZone)}, ${formatTime(shown.lastSyncedAt, userZone)}` : 'Not synced yet'} · {countsText(shown)} · {collectionCount(shown.kind, enabled)} of{' '}
        {shown.collections.length} syncing
      </p>
      <p role="status" className="hint progress">
        {progress ?? ''}
        {following && streamGone ? ' (live progress lost: checking every few seconds)' : ''}
      </p>
      {shown.status === 'NEEDS_REAUTH' && (
        <div className="reauth" data-testid="reauth">
          <p className="error">The server refused the saved credentials: connect again with a new app password to resume syncing.</p>
          <button type="button" className="primary" onClick={() => onReconnect(shown)}>
            Reconnect
          </button>
        </div>
      )}
      {shown.lastError && shown.status !== 'OK' && shown.status !== 'SYNCING' && (
        <p className="error last-error">
          <span className="visually-hidden">Last error: </span>
          {shown.lastError}
        </p>
      )}
      {enabled === 0 && shown.collections.length > 0 && open !== 'picker' && <p className="notice">Choose the {noun} to sync: nothing syncs until you do.</p>}
      {open === 'picker' ? (
        <CollectionPicker
          account={shown}
          onCancel={() => close(opener)}
          onSaved={(saved) => {
            close(opener)
            const count = saved.collections.filter((collection) => collection.enabled).length
            onAnnounce(`Saved: ${collectionCount(saved.kind, count)} of ${saved.url} ${count === 1 ? 'syncs' : 'sync'}.`)
            if (count > 0) follow(saved)
          }}
        />
      ) : open === 'disconnect' ? (
        <ConfirmDisconnect account={shown} onCancel={() => close(disconnectButton)} onDisconnected={() => onDisconnected(shown)} />
      ) : (
        <div className="actions">
          <button type="button" onClick={() => void syncNow()} aria-disabled={requesting || following !== null || enabled === 0}>
            {requesting ? 'Asking…' : following ? 'Syncing…' : 'Sync now'}
          </button>
          <button type="button" ref={opener} onClick={() => setOpen('picker')}>
            Choose {noun}…
          </button>
          <button type="button" ref={disconnectButton} onClick={() => setOpen('disconnect')}>
            Disconnect…
          </button>
        </div>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </li>
  )
}
