import { useEffect, useState, type FormEvent } from 'react'
import { pageTitle } from '../page-change.ts'

/**
 * Takes an API token (`npm run token` on the server prints one). The token field has focus when it opens
 * (after sign-out too). In development (`demoToken`: the server put the demo user's token in the page) it
 * also offers to sign in as the demo user, so signing out never leaves a developer without a way back.
 */
export function SignIn({
  notice,
  onSignIn,
  demoToken,
  onDemo,
}: {
  notice: string | null
  onSignIn: (token: string) => void
  demoToken?: string | undefined
  onDemo?: (demoToken: string) => void
}) {
  const [token, setToken] = useState('')
  useEffect(() => {
    document.title = pageTitle('Sign in')
  }, [])
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (token.trim()) onSignIn(token.trim())
  }
  return (
    <main className="sign-in">
      <h1>Sign in</h1>
      {notice && <p role="alert">{notice}</p>}
      <form onSubmit={submit}>
        <label>
          API token <input type="password" autoComplete="current-password" value={token} onChange={(event) => setToken(event.target.value)} required autoFocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p className="hint">
        A token for any user: <code>npm run -s token -- --user you@example.com</code> on the server.
      </p>
      {demoToken && onDemo && (
        <p>
          <button type="button" onClick={() => onDemo(demoToken)}>
            Sign in as the demo user
          </button>{' '}
          <span className="hint">(development only)</span>
        </p>
      )}
    </main>
  )
}
