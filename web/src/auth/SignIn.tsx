import { useEffect, useState, type FormEvent } from 'react'
import { pageTitle } from '../page-change.ts'

/** Takes an API token (`npm run token` on the server prints one). The token field has focus when it opens (after sign-out too). */
export function SignIn({ notice, onSignIn }: { notice: string | null; onSignIn: (token: string) => void }) {
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
    </main>
  )
}
