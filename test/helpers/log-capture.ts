/** A logger whose JSON lines land in an array, with the server's own serializers. */
import { createLogger, type Logger } from '../../src/logger.ts'

export interface LogLine {
  level: number
  msg?: string
  err?: { type?: string; message?: string; stack?: string; [key: string]: unknown }
  [key: string]: unknown
}

/** pino's numeric levels: 50 is error, 40 warn, 30 info, 20 debug. */
export const ERROR_LEVEL = 50

export function captureLogs(level: 'debug' | 'info' | 'trace' = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) })
  return { logger, lines }
}
