/** A router for the app's pages: the path from `history`, links that push state. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react'

const NAVIGATE = 'app:navigate'

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange)
  window.addEventListener(NAVIGATE, onChange)
  return () => {
    window.removeEventListener('popstate', onChange)
    window.removeEventListener(NAVIGATE, onChange)
  }
}

/** The current location (path and query). */
export function useLocation(): { pathname: string; search: string } {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname)
  const search = useSyncExternalStore(subscribe, () => window.location.search)
  return { pathname, search }
}

/** Goes to `to` as a link would: a new history entry, and a new page starts at its top (the same page with another query keeps its scroll). */
export function navigate(to: string): void {
  const samePage = new URL(to, window.location.href).pathname === window.location.pathname
  window.history.pushState(null, '', to)
  if (!samePage && document.scrollingElement) document.scrollingElement.scrollTop = 0
  window.dispatchEvent(new Event(NAVIGATE))
}

export type Route =
  | { page: 'suggestions' }
  | { page: 'contacts' }
  | { page: 'import' }
  | { page: 'accounts' }
  | { page: 'apiKeys' }
  | { page: 'apps' }
  | { page: 'consent'; uid: string }
  | { page: 'contact'; id: string }
  | { page: 'notFound' }

/** Contact ids are base64 global ids (`/`, `+`, `=`): encoded in the path. */
export const contactPath = (id: string) => `/contacts/${encodeURIComponent(id)}`

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'suggestions' }
  if (pathname === '/contacts' || pathname === '/contacts/') return { page: 'contacts' }
  if (pathname === '/import' || pathname === '/import/') return { page: 'import' }
  if (pathname === '/accounts' || pathname === '/accounts/') return { page: 'accounts' }
  if (pathname === '/api-keys' || pathname === '/api-keys/') return { page: 'apiKeys' }
  if (pathname === '/apps' || pathname === '/apps/') return { page: 'apps' }
  // Where the OAuth server sends the browser to ask for the user's consent (src/oauth/provider.ts).
  const consent = /^\/oauth\/consent\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname)
  if (consent?.[1]) return { page: 'consent', uid: consent[1] }
  const contact = /^\/contacts\/([^/]+)$/.exec(pathname)
  if (contact?.[1]) {
    try {
      return { page: 'contact', id: decodeURIComponent(contact[1]) }
    } catch {
      return { page: 'notFound' }
    }
  }
  return { page: 'notFound' }
}

/** A real link (keyboard, middle-click, copy link) that navigates without a reload. */
export function Link({ to, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={follow} {...props} />
}
