/**
 * A per-request memo: the production guard needs the viewer before validation,
 * the context after it; both get one token lookup (one database query) between them.
 */

/** Wraps `compute` so each Request object is computed once (held weakly: gone with the request). */
export function oncePerRequest<T>(compute: (request: Request) => Promise<T>): (request: Request) => Promise<T> {
  const results = new WeakMap<Request, Promise<T>>()
  return (request) => {
    let result = results.get(request)
    if (!result) {
      result = compute(request)
      results.set(request, result)
    }
    return result
  }
}
