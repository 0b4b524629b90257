/** Structured logging (pino). One root logger per process; children per component. */
import { pino, stdSerializers, type DestinationStream, type LogFn, type Logger } from 'pino'
import type { LogLevel } from './config.ts'

export type { Logger }

/** Fields of database errors that carry the statement or its values (user data): never logged. */
const QUERY_FIELDS = ['query', 'params', 'meta', 'internalQuery', 'where', 'detail', 'parameters', 'sql'] as const

/** Prisma's own errors: their message quotes the failing call with its arguments. */
function isPrismaError(error: Record<string, unknown>): boolean {
  return typeof error.clientVersion === 'string' || /^Prisma/.test(String(error.type ?? error.name ?? ''))
}

/**
 * The last paragraph of a Prisma message: the reason ("Unique constraint failed on the
 * fields: (`email`)"), without the "Invalid `prisma.x.y()` invocation" frame quoting the arguments.
 */
function prismaReason(message: string): string {
  const lines = message.split('\n')
  const arrow = lines.reduce((last, line, index) => (line.startsWith('→') ? index : last), -1)
  let rest: string[]
  if (arrow >= 0) {
    // After the frame's last line comes the call's arguments (indented), then the reason.
    rest = lines.slice(arrow + 1)
    while (rest.length > 0 && /^\s/.test(rest[0]!)) rest.shift()
  } else {
    // "Invalid `prisma.x.y()` invocation:", maybe the call's arguments, then the reason: its last paragraph.
    rest = message.split(/\n\s*\n/).filter((part) => part.trim() !== '').at(-1)?.split('\n') ?? []
  }
  return rest.map((line) => line.trim()).filter(Boolean).join(' ') || 'Prisma error'
}

/**
 * pino's `err` serializer, minus what would copy a query into the logs: a database
 * error keeps its type, code, message and stack frames, but not the statement, its
 * parameters or Prisma's `meta`; a Prisma message keeps only its reason.
 */
export function serializeError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error) as unknown as Record<string, unknown>
  if (typeof serialized !== 'object' || serialized === null || !('stack' in serialized)) return serialized
  for (const field of QUERY_FIELDS) delete serialized[field]
  if (isPrismaError(serialized) && typeof serialized.message === 'string') {
    const reason = prismaReason(serialized.message)
    const frames = typeof serialized.stack === 'string' ? serialized.stack.split('\n').filter((line) => /^\s+at /.test(line)) : []
    serialized.message = reason
    serialized.stack = [`${String(serialized.type)}: ${reason}`, ...frames].join('\n')
  }
  return serialized
}

/**
 * The process's logger: JSON lines on stdout, or on `destination` (tests capture
 * lines this way). Errors logged under `err` go through {@link serializeError}.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'suggestions-server' },
    serializers: { err: serializeError },
    hooks: {
      // `logger.error(error)` would make the error's whole message the line's `msg`: a Prisma message quotes the query.
      logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn) {
        const [first, second] = args as unknown[]
        if (first instanceof Error && typeof second !== 'string') {
          const { message } = serializeError(first) as { message?: string }
          return method.call(this, { err: first }, message ?? first.name)
        }
        return method.apply(this, args)
      },
    },
  }
  return destination ? pino(options, destination) : pino(options)
}
