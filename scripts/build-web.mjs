// `npm start`'s first step: build the web client into web/dist, unless it is already built from the
// sources as they are now (a restart then skips the 10-30 s build). Says what it does, for a person.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
// Kept outside web/dist (which the server serves) and out of git.
const stamp = path.join(root, 'node_modules/.cache/web-build-stamp')
const sources = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/package.json', 'package-lock.json']

/** The newest modification time (ms) of a file, or of any file under a directory. */
function newest(target) {
  if (!existsSync(target)) return 0
  const stat = statSync(target)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(target).reduce((max, name) => Math.max(max, newest(path.join(target, name))), stat.mtimeMs)
}

const sourcesChanged = Math.max(...sources.map((source) => newest(path.join(root, source))))
if (existsSync(stamp) && existsSync(path.join(root, 'web/dist/index.html')) && statSync(stamp).mtimeMs >= sourcesChanged) {
  process.stderr.write('- web client: web/dist is up to date\n')
  process.exit(0)
}
process.stderr.write('- building the web client into web/dist...')
const started = performance.now()
const result = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
if (result.status !== 0) {
  process.stderr.write(' failed\n')
  process.exit(result.status ?? 1)
}
mkdirSync(path.dirname(stamp), { recursive: true })
writeFileSync(stamp, `${new Date().toISOString()}\n`)
process.stderr.write(` done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
