/**
 * The API keys page (`/api-keys`): the user's personal API keys for their own scripts, each with
 * its name, first characters, scopes, dates and state, and "Revoke" after a confirmation in the
 * row; and the form that makes one (name, scopes as checkboxes, days until it expires), whose
 * answer shows the key once with a Copy button. The key is held in this page's state only until
 * the user closes it, and never written anywhere else.
 */
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import type { ResultOf } from 'gql.tada'
import { ApiKeysQuery, CreateApiKey, RevokeApiKey } from '../api/documents.ts'
import { ApiError, apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { formatDate } from '../format.ts'
import { FieldError, formErrorsOf, invalidProps, NO_ERRORS, type FormErrors } from '../forms/field-errors.tsx'
import { DEFAULT_KEY_DAYS, keyState, MAX_KEY_DAYS, SCOPE_CHOICES, type ScopeName } from './scopes.ts'
import '../contacts/contacts.css'
import '../accounts/accounts.css'
import './api-keys.css'

type ApiKey = NonNullable<ResultOf<typeof ApiKeysQuery>['apiKeys']>[number]

/** Every key write: the `apiKeys` list asks again. */
const KEY_WRITE = { additionalTypenames: ['ApiKey'] }

/** The fields the server's BAD_USER_INPUT can name (`input.name`, `input.scopes`, `input.expiresInDays`). */
const KEY_FIELDS = ['name', 'scopes', 'expiresInDays'] as const

const STATE_LABELS = { active: 'Active', expired: 'Expired', revoked: 'Revoked' } as const
const STATE_TONES = { active: 'ok', expired: 'warn', revoked: 'error' } as const

/** "Revoke …?" with the button that does it and one that keeps the key; Escape keeps it. */
function ConfirmRevoke({ apiKey, onRevoked, onCancel }: { apiKey: ApiKey; onRevoked: () => void; onCancel: () => void }) {
  const [{ fetching }, revoke] = useMutation(RevokeApiKey)
  const [problem, setProblem] = useState<string | null>(null)
  const confirm = useRef<HTMLButtonElement>(null)
  useEffect(() => confirm.current?.focus(), [])
  const question = `Revoke ${apiKey.name}? Scripts using it are refused from now on, and its open streams close.`
  const run = async () => {
    if (fetching) return
    setProblem(null)
    const result = await revoke({ id: apiKey.id }, KEY_WRITE)
    if (result.data) return onRevoked()
    const error = result.error ? apiErrorOf(result.error) : new ApiError('No answer.', 'UNKNOWN')
    setProblem(error.code === 'NOT_FOUND' ? 'Could not revoke: this key no longer exists. Reload the page.' : `Could not revoke: ${error.message}`)
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
          {fetching ? 'Revoking…' : 'Revoke'}
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

/** One key in the list. */
function KeyRow({ apiKey, userZone, now, onRevoked }: { apiKey: ApiKey; userZone: string | null; now: number; onRevoked: (apiKey: ApiKey) => void }) {
  const titleId = useId()
  const [confirming, setConfirming] = useState(false)
  const revokeButton = useRef<HTMLButtonElement>(null)
  const state = keyState(apiKey, now)
  const labels = new Map<string, string>(SCOPE_CHOICES.map((choice) => [choice.scope, choice.label]))
  const close = () => {
    setConfirming(false)
    queueMicrotask(() => revokeButton.current?.focus())
  }
  return (
    <li className="api-key" aria-labelledby={titleId} data-testid="api-key">
      <div className="account-head">
        <span id={titleId} className="account-url">
          {apiKey.name}
        </span>
        <code className="key-prefix" aria-label={`Starts with ${apiKey.displayPrefix}`}>
          {apiKey.displayPrefix}…
        </code>
        <span className={`badge ${STATE_TONES[state]}`}>{STATE_LABELS[state]}</span>
      </div>
      <p className="meta">{apiKey.scopes.map((scope) => labels.get(scope) ?? scope).join(' · ')}</p>
      <p className="meta">
        Made {formatDate(apiKey.createdAt, userZone)} · {state === 'expired' ? 'expired' : 'expires'} {formatDate(apiKey.expiresAt, userZone)}
        {apiKey.revokedAt ? ` · revoked ${formatDate(apiKey.revokedAt, userZone)}` : ''} · {apiKey.lastUsedAt ? `last used ${formatDate(apiKey.lastUsedAt, userZone)}` : 'never used'}
      </p>
      {state === 'active' && !confirming && (
        <p className="actions">
          <button ref={revokeButton} type="button" onClick={() => setConfirming(true)} aria-label={`Revoke ${apiKey.name}`}>
            Revoke
          </button>
        </p>
      )}
      {confirming && (
        <ConfirmRevoke
          apiKey={apiKey}
          onCancel={close}
          onRevoked={() => {
            setConfirming(false)
            onRevoked(apiKey)
          }}
        />
      )}
    </li>
  )
}

/** The key just made, shown once: a read-only field, selected on focus, and Copy. */
function NewKey({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null)
  const [message, setMessage] = useState<{ text: string; failed: boolean } | null>(null)
  useEffect(() => field.current?.focus(), [])
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret)
      setMessage({ text: 'Key copied.', failed: false })
    } catch {
      setMessage({ text: 'Could not copy: select the key and copy it.', failed: true })
    }
  }
  return (
    <div className="new-key" role="group" aria-label={`The new key ${name}`}>
      <p className="notice">Copy the key now: it is shown only once, and cannot be shown again.</p>
      <div className="feed-url">
        <label>
          Key {name}{' '}
          <input ref={field} type="text" readOnly value={secret} spellCheck={false} autoComplete="off" onFocus={(event) => event.target.select()} />
        </label>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      <p role="status" className={message?.failed ? 'error' : 'hint'}>
        {message?.text}
      </p>
    </div>
  )
}

/** Name, scopes and expiry; on success hands the key and its name to `onCreated`. */
function CreateKeyForm({ onCreated, onUnauthorized }: { onCreated: (created: { name: string; key: string }) => void; onUnauthorized: () => void }) {
  const formId = useId().replaceAll(':', '')
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState<Set<ScopeName>>(() => new Set())
  const [days, setDays] = useState(String(DEFAULT_KEY_DAYS))
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS)
  const [{ fetching }, create] = useMutation(CreateApiKey)
  const nameInput = useRef<HTMLInputElement>(null)
  const firstScope = useRef<HTMLInputElement>(null)
  const daysInput = useRef<HTMLInputElement>(null)
  const focusField = (field: string | undefined) => (field === 'name' ? nameInput : field === 'scopes' ? firstScope : daysInput).current?.focus()

  const fail = (found: FormErrors) => {
    setErrors(found)
    const field = KEY_FIELDS.find((candidate) => found.fields[candidate])
    if (field) focusField(field)
  }
  const toggle = (scope: ScopeName, on: boolean) =>
    setScopes((before) => {
      const next = new Set(before)
      if (on) next.add(scope)
      else next.delete(scope)
      return next
    })

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (fetching) return
    const missing: Record<string, string> = {}
    const expiresInDays = Number(days)
    if (!name.trim()) missing.name = 'Name the key: what is it for?'
    if (scopes.size === 0) missing.scopes = 'Choose at least one thing the key may do.'
    if (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > MAX_KEY_DAYS) missing.expiresInDays = `Between 1 and ${MAX_KEY_DAYS} days.`
    if (Object.keys(missing).length > 0) return fail({ fields: missing, form: null })
    setErrors(NO_ERRORS)
    // In the list's order, whatever order they were ticked in.
    const input = { name: name.trim(), scopes: SCOPE_CHOICES.map((choice) => choice.scope).filter((scope) => scopes.has(scope)), expiresInDays }
    const result = await create({ input }, KEY_WRITE)
    if (!result.data) {
      if (result.error && apiErrorOf(result.error).unauthorized) onUnauthorized()
      if (!result.error) return fail({ fields: {}, form: 'Could not make the key: no answer.' })
      const found = formErrorsOf(result.error, KEY_FIELDS)
      return fail(found.form === null ? found : { fields: {}, form: `Could not make the key: ${found.form}` })
    }
    onCreated({ name: result.data.createApiKey.apiKey.name, key: result.data.createApiKey.key })
    setName('')
    setScopes(new Set())
    setDays(String(DEFAULT_KEY_DAYS))
  }

  return (
    <form className="connect-form" onSubmit={submit} noValidate aria-labelledby={`${formId}-title`}>
      <h2 id={`${formId}-title`}>Make a key</h2>
      <div className="form-row">
        <label htmlFor={`${formId}-name`}>Name</label>
        <input
          id={`${formId}-name`}
          ref={nameInput}
          autoComplete="off"
          placeholder="Backup script"
          value={name}
          onChange={(event) => setName(event.target.value)}
          {...invalidProps(formId, 'name', errors)}
        />
        <FieldError formId={formId} field="name" errors={errors} />
      </div>
      <fieldset className="form-row" {...invalidProps(formId, 'scopes', errors)}>
        <legend>What it may do</legend>
        <ul className="collections">
          {SCOPE_CHOICES.map((choice, index) => (
            <li key={choice.scope}>
              <label className="check">
                <input ref={index === 0 ? firstScope : undefined} type="checkbox" checked={scopes.has(choice.scope)} onChange={(event) => toggle(choice.scope, event.target.checked)} />
                <span>
                  {choice.label} <code className="scope-name">{choice.scope}</code>
                  <span className="url hint">{choice.detail}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
        <FieldError formId={formId} field="scopes" errors={errors} />
      </fieldset>
      <div className="form-row">
        <label htmlFor={`${formId}-days`}>Expires after (days)</label>
        <input
          id={`${formId}-days`}
          ref={daysInput}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_KEY_DAYS}
          value={days}
          onChange={(event) => setDays(event.target.value)}
          {...invalidProps(formId, 'expiresInDays', errors)}
        />
        <FieldError formId={formId} field="expiresInDays" errors={errors} />
      </div>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" aria-disabled={fetching}>
          {fetching ? 'Making the key…' : 'Make key'}
        </button>
      </div>
    </form>
  )
}

export interface ApiKeysPageProps {
  onUnauthorized: () => void
  /** The user's IANA zone for the dates (the browser's when null). */
  userZone?: string | null
  /** The time the states (active, expired) are read at; default: now at each render. */
  now?: () => number
}

/** Under an `ApiProvider`. */
export function ApiKeysPage({ onUnauthorized, userZone = null, now = Date.now }: ApiKeysPageProps) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ApiKeysQuery })
  useUnauthorized(error, onUnauthorized)
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute])
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null)
  const [announcement, setAnnouncement] = useState('')
  const keys = data?.apiKeys ?? []

  return (
    <article className="accounts-page api-keys-page" aria-labelledby="api-keys-title">
      <h1 id="api-keys-title" tabIndex={-1}>
        API keys
      </h1>
      <p className="hint">
        A key lets your own scripts use this app as you, only for what you allow. Every key expires (after {DEFAULT_KEY_DAYS} days unless you choose, at most {MAX_KEY_DAYS}); revoke
        one at any time. A key cannot make other keys.
      </p>
      {created && (
        <NewKey
          name={created.name}
          secret={created.key}
          onDone={() => {
            setCreated(null)
            queueMicrotask(() => document.getElementById('api-keys-title')?.focus())
          }}
        />
      )}
      <section aria-labelledby="api-keys-list-title">
        <h2 id="api-keys-list-title">Your keys</h2>
        {error && !data && <p role="alert">Could not list them: {apiErrorOf(error).message}</p>}
        {!data && fetching && <p aria-busy="true">Loading…</p>}
        {data && keys.length === 0 && <p>No keys yet: make one below.</p>}
        <ul className="accounts">
          {keys.map((apiKey) => (
            <KeyRow
              key={apiKey.id}
              apiKey={apiKey}
              userZone={userZone}
              now={now()}
              onRevoked={(revoked) => {
                setAnnouncement(`Revoked ${revoked.name}.`)
                refresh()
                queueMicrotask(() => document.getElementById('api-keys-list-title')?.focus())
              }}
            />
          ))}
        </ul>
      </section>
      <section aria-label="Make a key">
        <CreateKeyForm
          onUnauthorized={onUnauthorized}
          onCreated={(made) => {
            setCreated(made)
            setAnnouncement(`Made ${made.name}.`)
            refresh()
          }}
        />
      </section>
      <p role="status" className="hint announcement" data-testid="api-keys-announcement">
        {announcement}
      </p>
    </article>
  )
}
