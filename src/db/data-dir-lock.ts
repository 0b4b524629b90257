/**
 * PGlite is one process's database: two processes opening the same data
 * directory corrupt it. A pid file guards it; a stale one (dead pid) is taken over.
 */
import { openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock of `dataDir` or throws naming the process that holds it. Returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'server.pid')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(file, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new Error(
          `the PGlite database in ${dataDir} is in use by process ${holder}; stop it first (or use PostgreSQL with DATABASE_URL)`,
        )
      }
      rmSync(file, { force: true }) // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`)
}
