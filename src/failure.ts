/**
 * Saying an expected failure in one line (an unreachable Redis or PostgreSQL, a busy port, a held
 * data directory): the error's code when it is a system error, else its message; never a stack.
 */

/** A system error's code (`ECONNREFUSED`, `EADDRINUSE`, ...), also inside an AggregateError (a host with several addresses). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  if (error instanceof AggregateError) return error.errors.map(errorCode).find((inner) => inner !== undefined)
  return undefined
}

/** The reason to print: a system error's code, else the message (or the value itself). */
export function errorReason(error: unknown): string {
  const code = errorCode(error)
  if (code && /^E[A-Z]+$/.test(code)) return code
  if (error instanceof Error) return error.message || error.name
  return String(error)
}

/** `url` with its password (if any) replaced by `***`, to print. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/**
 * What failed with the database, in one line: an unreachable PostgreSQL named by its URL (password
 * hidden), anything else (a PGlite data directory in use, a failing migration) by `doing` and its message.
 */
export function databaseFailure(databaseUrl: string | undefined, doing: string, error: unknown): string {
  if (databaseUrl && errorCode(error)) return `cannot reach PostgreSQL at ${withoutPassword(databaseUrl)}: ${errorReason(error)}`
  return `cannot ${doing}: ${errorReason(error)}`
}

/** For command-line tools: `message` alone on stderr (no stack) and exit code 1. */
export function exitWith(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}
