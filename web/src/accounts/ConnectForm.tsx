/**
 * Connecting a CardDAV or CalDAV account with a server URL, a user name and an app password
 * (HTTP Basic). The server discovers the address books or calendars (RFC 6764 well-known URLs,
 * then the principal's home set) before it answers; a BAD_USER_INPUT about `input.url` or
 * `input.password` goes under that field. The password is held in this form only until the
 * server answered (cleared after a success) and the server never sends it back.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { useMutation } from 'urql'
import { ConnectAccount } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { FieldError, formErrorsOf, invalidProps, NO_ERRORS, type FormErrors } from '../forms/field-errors.tsx'
import { COLLECTION_NOUNS, KIND_LABELS, type Account, type AccountKind } from './account-state.ts'

/** The fields the server's BAD_USER_INPUT can name (`input.url`, `input.username`, `input.password`). */
export const CONNECT_FIELDS = ['url', 'username', 'password'] as const
type ConnectField = (typeof CONNECT_FIELDS)[number]

/** What the form opens with: a reconnect brings the kind and URL of the account to connect again. */
export interface ConnectPrefill {
  kind: AccountKind
  url: string
  /** The account being connected again (its URL is named in the heading). */
  reconnecting?: boolean
}

export interface ConnectFormProps {
  prefill?: ConnectPrefill | null
  onConnected: (account: Account) => void
  onUnauthorized: () => void
}

/** The form's message for an error that is no field's: a quota, an unknown account, or the server's message. */
export function connectProblem(error: Parameters<typeof apiErrorOf>[0]): string {
  const apiError = apiErrorOf(error)
  if (apiError.code === 'QUOTA_EXCEEDED') return `${apiError.message}. Disconnect an account to connect another.`
  return `Could not connect: ${apiError.message}`
}

export function ConnectForm({ prefill = null, onConnected, onUnauthorized }: ConnectFormProps) {
  const formId = useId().replaceAll(':', '')
  const [kind, setKind] = useState<AccountKind>(prefill?.kind ?? 'CARDDAV')
  const [url, setUrl] = useState(prefill?.url ?? '')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS)
  const [{ fetching }, connect] = useMutation(ConnectAccount)
  const inputs = {
    url: useRef<HTMLInputElement>(null),
    username: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
  } satisfies Record<ConnectField, unknown>
  // A reconnect starts at the user name: the kind and URL are the account's.
  useEffect(() => {
    if (prefill?.reconnecting) inputs.username.current?.focus()
  }, []) // once: the page keys the form by its prefill

  const fail = (found: FormErrors) => {
    setErrors(found)
    const field = CONNECT_FIELDS.find((name) => found.fields[name])
    if (field) inputs[field].current?.focus()
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (fetching) return
    const missing: Record<string, string> = {}
    if (!url.trim()) missing.url = "Enter your server's address."
    if (!username.trim()) missing.username = 'Enter your user name.'
    if (!password) missing.password = 'Enter an app password.'
    if (Object.keys(missing).length > 0) return fail({ fields: missing, form: null })
    setErrors(NO_ERRORS)
    const result = await connect({ input: { kind, url: url.trim(), username: username.trim(), password } }, { additionalTypenames: ['Account'] })
    if (result.error || !result.data) {
      if (result.error && apiErrorOf(result.error).unauthorized) onUnauthorized()
      if (!result.error) return fail({ fields: {}, form: 'Could not connect: no answer.' })
      const found = formErrorsOf(result.error, CONNECT_FIELDS)
      return fail(found.form === null ? found : { fields: {}, form: connectProblem(result.error) })
    }
    setPassword('')
    onConnected(result.data.connectAccount)
  }

  const noun = COLLECTION_NOUNS[kind].many
  return (
    <form className="connect-form" onSubmit={submit} noValidate aria-labelledby={`${formId}-title`}>
      <h2 id={`${formId}-title`}>{prefill?.reconnecting ? `Reconnect ${prefill.url}` : 'Connect an account'}</h2>
      <p className="hint" id={`${formId}-help`}>
        Use an app password, not your main password: iCloud (Apple Account → Sign-In and Security → App-Specific Passwords), Fastmail (Settings → Privacy &amp;
        Security → App passwords) or Nextcloud (Settings → Security → Devices &amp; sessions) make one for this app.
      </p>
      <div className="form-row">
        <label htmlFor={`${formId}-kind`}>What to sync</label>
        <select id={`${formId}-kind`} value={kind} onChange={(event) => setKind(event.target.value as AccountKind)}>
          {(Object.keys(KIND_LABELS) as AccountKind[]).map((value) => (
            <option key={value} value={value}>
              {KIND_LABELS[value]}
            </option>
          ))}
        </select>
      </div>
      <div className="form-row">
        <label htmlFor={`${formId}-url`}>Server URL</label>
        <input
          id={`${formId}-url`}
          ref={inputs.url}
          type="url"
          inputMode="url"
          autoComplete="url"
          spellCheck={false}
          placeholder="https://contacts.icloud.com"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          {...invalidProps(formId, 'url', errors)}
        />
        <FieldError formId={formId} field="url" errors={errors} />
      </div>
      <div className="form-row">
        <label htmlFor={`${formId}-username`}>User name</label>
        <input
          id={`${formId}-username`}
          ref={inputs.username}
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="none"
          value={username}
          onChange={(event) => setUsername(event.target.value)}
          {...invalidProps(formId, 'username', errors)}
        />
        <FieldError formId={formId} field="username" errors={errors} />
      </div>
      <div className="form-row">
        <label htmlFor={`${formId}-password`}>App password</label>
        <input
          id={`${formId}-password`}
          ref={inputs.password}
          type="password"
          autoComplete="off"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          {...invalidProps(formId, 'password', errors)}
          aria-describedby={[`${formId}-help`, errors.fields.password ? `${formId}-password-error` : null].filter(Boolean).join(' ')}
        />
        <FieldError formId={formId} field="password" errors={errors} />
      </div>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" aria-disabled={fetching}>
          {fetching ? 'Connecting…' : 'Connect'}
        </button>
      </div>
      <p role="status" className="hint">
        {fetching ? `Connecting and looking for your ${noun}…` : ''}
      </p>
    </form>
  )
}
