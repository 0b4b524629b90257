// When a build's output is current, shared by `npm start`'s build steps (build-web.mjs, build-server.mjs):
// a stamp file, touched after each successful build, is newer than every source. A restart then skips the build.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project's root (this file is in scripts/). */
export const root = fileURLToPath(new URL('..', import.meta.url))

/** The newest modification time (ms) of a file, or of any file under a directory; 0 when missing. */
function newest(target) {
  if (!existsSync(target)) return 0
  const stat = statSync(target)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(target).reduce((max, name) => Math.max(max, newest(path.join(target, name))), stat.mtimeMs)
}

/**
 * A build's stamp file (`stamp`, out of git). `upToDate()`: the stamp and `output` exist and the stamp
 * is newer than every path of `sources` (all relative to the root). `markBuilt()`: touch the stamp after
 * a successful build.
 */
export function buildStamp({ stamp: stampPath, output, sources }) {
  const stamp = path.join(root, stampPath)
  return {
    upToDate() {
      const sourcesChanged = Math.max(...sources.map((source) => newest(path.join(root, source))))
      return existsSync(stamp) && existsSync(path.join(root, output)) && statSync(stamp).mtimeMs >= sourcesChanged
    },
    markBuilt() {
      mkdirSync(path.dirname(stamp), { recursive: true })
      writeFileSync(stamp, `${new Date().toISOString()}\n`)
    },
  }
}
