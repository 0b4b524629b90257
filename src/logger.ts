/** Structured logging (pino). One root logger per process; children per component. */
import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.ts'

export type { Logger }

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'suggestions-server' } })
}
