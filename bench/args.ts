/** Command-line helpers the benchmarks share: a refusal with the usage line, and positive integer options. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Exits 1 with `message` and the usage line. */
export function benchFail(usage: string, message: string): never {
  process.stderr.write(`${message}\nusage: ${usage}\n`)
  process.exit(1)
}

/** The option `--name` (`text`) as a positive safe integer, `fallback` when absent; anything else is `fail`ed. */
export function positiveInteger(name: string, text: string | undefined, fallback: number, fail: (message: string) => never): number {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) fail(`--${name} must be a positive integer, got "${text}"`)
  return Number(text)
}

/**
 * The command line's `--options` (no positionals) as `parseArgs` reads them; an unknown option or a
 * missing value is `benchFail`ed with the usage line, not thrown as an ERR_PARSE_ARGS_* stack.
 */
export function benchArgs<const T extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: T) {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values
  } catch (error) {
    return benchFail(usage, error instanceof Error ? error.message : String(error))
  }
}

/**
 * Exits 1 unless `global.gc` is there: figures of heap growth are read after a forced collection, and
 * without one (plain `tsx`) they come out as 0 or as the garbage of what ran before.
 */
export function requireGc(usage: string): void {
  if (typeof global.gc !== 'function') benchFail(usage, 'heap figures need --expose-gc: run it through its npm script (node --expose-gc --import tsx ...)')
}
