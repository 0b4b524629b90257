/** The app: the sign-in screen, or the signed-in pages over one API client per token. */
import { useCallback, useEffect, useRef, useState } from 'react'
import { useQuery } from 'urql'
import { createApiClient, type ApiClient } from './api/client.ts'
import { MeQuery } from './api/documents.ts'
import { ApiProvider, useUnauthorized } from './api/provider.tsx'
import { fetchAppConfig, type AppConfig } from './app-config.ts'
import { dropRefusedToken, forgetToken, initialToken, resumeDemoSession, saveToken, type TokenStorage } from './auth/session.ts'
import { SignIn } from './auth/SignIn.tsx'
import { AccountsPage } from './accounts/AccountsPage.tsx'
import { ApiKeysPage } from './api-keys/ApiKeysPage.tsx'
import { ConnectedAppsPage } from './oauth/ConnectedAppsPage.tsx'
import { ConsentPage } from './oauth/ConsentPage.tsx'
import { ContactPage } from './contacts/ContactPage.tsx'
import { ContactsView } from './contacts/ContactsView.tsx'
import { ImportExportPage } from './imports/ImportExportPage.tsx'
import { usePageChange } from './page-change.ts'
import { Link, matchRoute, useLocation, type Route } from './router.tsx'
import { SuggestionsView } from './suggestions/SuggestionsView.tsx'

export interface AppProps {
  config: AppConfig
  storage: TokenStorage
  createClient?: (token: string) => ApiClient
  /** The server's page config now (tests pass a stub): where a refused demo token finds its successor. */
  fetchConfig?: () => Promise<AppConfig>
}

const defaultClient = (token: string) => createApiClient({ token, httpUrl: new URL('/graphql', window.location.href).href })

/** `?max=500&batch=20`: how many suggestions to ask for and contacts per page (the server's defaults otherwise). */
export function streamInputFromSearch(search: string): { maxSuggestions?: number; batchSize?: number } {
  const params = new URLSearchParams(search)
  const int = (name: string, max: number) => {
    const value = Number(params.get(name) ?? Number.NaN)
    return Number.isInteger(value) && value >= 1 && value <= max ? value : undefined
  }
  const maxSuggestions = int('max', 500)
  const batchSize = int('batch', 1000)
  return { ...(maxSuggestions ? { maxSuggestions } : {}), ...(batchSize ? { batchSize } : {}) }
}

/** What the sign-in screen says after the server refused the token (once: it is not kept). */
export const REFUSED_NOTICE = 'Your token was rejected. Sign in again.'

export function App({ config, storage, createClient = defaultClient, fetchConfig = fetchAppConfig }: AppProps) {
  const [token, setToken] = useState(() => initialToken(config, storage))
  const [notice, setNotice] = useState<string | null>(null)
  // Signed in with the form: the page that opens takes focus (the form that had it is gone).
  const [signedInHere, setSignedInHere] = useState(false)
  const signIn = (next: string) => {
    saveToken(storage, next)
    setNotice(null)
    setSignedInHere(true)
    setToken(next)
  }
  const signOut = useCallback(
    (reason: string | null) => {
      forgetToken(storage)
      setNotice(reason)
      setToken(null)
    },
    [storage],
  )
  // A refused token is not a sign-out: in development, when it was the demo token the page was given,
  // the server's current demo token (after a restart on a new data directory) signs the page in again.
  const refused = useCallback(
    (refusedToken: string) => {
      dropRefusedToken(storage)
      const successor = refusedToken === config.demoToken ? fetchConfig().then((current) => current.demoToken) : Promise.resolve(undefined)
      void successor.then((next) => {
        setNotice(next && next !== refusedToken ? null : REFUSED_NOTICE)
        setToken(next && next !== refusedToken ? next : null)
      })
    },
    [storage, config.demoToken, fetchConfig],
  )
  const signInAsDemo = (demoToken: string) => {
    resumeDemoSession(storage)
    setNotice(null)
    setSignedInHere(true)
    setToken(demoToken)
  }
  if (!token) return <SignIn notice={notice} onSignIn={signIn} demoToken={config.demoToken} onDemo={signInAsDemo} />
  return <SignedIn key={token} token={token} createClient={createClient} onSignOut={signOut} onRefused={refused} focusOnMount={signedInHere} />
}

/** One API client per token, disposed on sign-out; the pages below use it through {@link ApiProvider}. */
function SignedIn({
  token,
  createClient,
  onSignOut,
  onRefused,
  focusOnMount,
}: {
  token: string
  createClient: (token: string) => ApiClient
  onSignOut: (reason: string | null) => void
  onRefused: (token: string) => void
  focusOnMount: boolean
}) {
  const [client, setClient] = useState<ApiClient | null>(null)
  useEffect(() => {
    const created = createClient(token)
    setClient(created)
    return () => created.dispose()
  }, [createClient, token])
  if (!client) return null
  return (
    <ApiProvider client={client}>
      <Pages onSignOut={onSignOut} onRefused={() => onRefused(token)} focusOnMount={focusOnMount} />
    </ApiProvider>
  )
}

/** The title of each page; null: the page's own heading (a contact's name). */
const PAGE_TITLES: Record<Route['page'], string | null> = {
  suggestions: 'Suggestions',
  contacts: 'Contacts',
  contact: null,
  import: 'Import and export',
  accounts: 'Accounts',
  apiKeys: 'API keys',
  apps: 'Connected apps',
  consent: 'Connect an app',
  notFound: 'Page not found',
}

function Pages({ onSignOut, onRefused, focusOnMount }: { onSignOut: (reason: string | null) => void; onRefused: () => void; focusOnMount: boolean }) {
  const { pathname, search } = useLocation()
  const route = matchRoute(pathname)
  const main = useRef<HTMLElement>(null)
  usePageChange(main, { pageKey: pathname, title: PAGE_TITLES[route.page], focusOnMount })
  // Every page reports a refused token once; the first report decides.
  const reported = useRef(false)
  const rejected = useCallback(() => {
    if (reported.current) return
    reported.current = true
    onRefused()
  }, [onRefused])

  // On the suggestions page the stream goes first: `me` (the user's zone, for the slots) is
  // asked once the first event is in, so that it does not compete with the walk on the server.
  const [streamStarted, setStreamStarted] = useState(false)
  const askForMe = useCallback(() => setStreamStarted(true), [])
  const wantMe = streamStarted || route.page !== 'suggestions'
  useEffect(() => {
    if (wantMe) return
    const timer = setTimeout(askForMe, 1500)
    return () => clearTimeout(timer)
  }, [wantMe, askForMe])

  const [{ data, error }] = useQuery({ query: MeQuery, pause: !wantMe })
  useUnauthorized(error, rejected)
  const me = data?.me ?? null
  const userZone = me?.timezone ?? null
  return (
    <>
      <header className="top">
        <nav aria-label="Main">
          <Link to="/" aria-current={route.page === 'suggestions' ? 'page' : undefined}>
            Suggestions
          </Link>
          <Link to="/contacts" aria-current={route.page === 'contacts' ? 'page' : undefined}>
            Contacts
          </Link>
          <Link to="/import" aria-current={route.page === 'import' ? 'page' : undefined}>
            Import &amp; export
          </Link>
          <Link to="/accounts" aria-current={route.page === 'accounts' ? 'page' : undefined}>
            Accounts
          </Link>
          <Link to="/api-keys" aria-current={route.page === 'apiKeys' ? 'page' : undefined}>
            API keys
          </Link>
          <Link to="/apps" aria-current={route.page === 'apps' ? 'page' : undefined}>
            Connected apps
          </Link>
        </nav>
        <span className="who">{me ? (me.name ?? me.email) : ''}</span>
        <button type="button" onClick={() => onSignOut(null)}>
          Sign out
        </button>
      </header>
      <main ref={main}>
        {route.page === 'suggestions' && <SuggestionsView userZone={userZone} {...streamInputFromSearch(search)} onUnauthorized={rejected} onFirstEvent={askForMe} />}
        {route.page === 'contacts' && <ContactsView groups={me?.groups ?? []} userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'import' && <ImportExportPage userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'accounts' && <AccountsPage userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'apiKeys' && <ApiKeysPage userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'apps' && <ConnectedAppsPage userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'consent' && <ConsentPage uid={route.uid} onUnauthorized={rejected} />}
        {route.page === 'contact' && <ContactPage id={route.id} userZone={userZone} onUnauthorized={rejected} />}
        {route.page === 'notFound' && (
          <section className="not-found" aria-labelledby="not-found-title">
            <h1 id="not-found-title">Page not found</h1>
            <p>
              Nothing is at this address. <Link to="/">Go to the suggestions</Link>
            </p>
          </section>
        )}
      </main>
    </>
  )
}
