/**
 * CORS for `/graphql`: only to configured origins (and the server's own), and
 * never with credentials: the API authenticates with bearer tokens, which a
 * browser sends only when the calling page's script has the token anyway.
 * Yoga's default would reflect any Origin and allow credentials.
 */
import type { CORSOptions } from 'graphql-yoga'

/** Yoga's `cors` option: headers for an allowed `Origin`, none for the rest (the browser then blocks the read). */
export function corsPolicy(allowedOrigins: readonly string[]): (request: Request) => CORSOptions {
  const allowed = new Set(allowedOrigins)
  return (request) => {
    const origin = request.headers.get('origin')
    // Same-origin requests need no CORS headers, but a browser still sends Origin on a POST: allow its own origin.
    if (origin === null || !(allowed.has(origin) || origin === new URL(request.url).origin)) return false
    return { origin, credentials: false, methods: ['GET', 'POST'], maxAge: 600 }
  }
}
