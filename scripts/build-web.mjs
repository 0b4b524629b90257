// `npm start`'s first step: build the web client into web/dist, unless it is already built from the
// sources as they are now (a restart then skips the 10-30 s build). Says what it does, for a person.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildStamp, root } from './build-stamp.mjs'

// The stamp is kept outside web/dist, which the server serves.
const stamp = buildStamp({ stamp: 'node_modules/.cache/web-build-stamp', output: 'web/dist/index.html', sources: ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/package.json', 'package-lock.json'] })
if (stamp.upToDate()) {
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
stamp.markBuilt()
process.stderr.write(` done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
