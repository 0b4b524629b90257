// `npm run build:server`, and `npm start`'s second step: bundle the server (src/main.ts) into
// dist/server/main.js and the command-line tools (src/cli/*.ts) into dist/cli/, as plain JavaScript
// for Node 20, unless they are already built from the sources as they are now. Production then runs
// compiled code: no TypeScript transpiler in the process (tsx cost an idle process about 35 MB).
// npm packages stay outside the bundle (imported from node_modules at run time); the generated Prisma
// client (src/generated) is bundled, and loads its wasm query compiler from @prisma/client.
// What the code imports only when it needs it (`await import(...)`: BullMQ's runner, the schema engine)
// goes into chunks of its own (dist/chunks/), loaded then.
// Each file is written under a temporary name and renamed, the chunks before the entries that import
// them: a process starting meanwhile (tests build it concurrently) reads the old files or the new ones,
// never half of one. Chunks of earlier builds are removed after.
import { existsSync, readdirSync, renameSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { build } from 'esbuild'
import { buildStamp, root } from './build-stamp.mjs'

const force = process.argv.includes('--force')
// The stamp is kept in dist/, with what it vouches for (node_modules may be shared by several checkouts).
const stamp = buildStamp({ stamp: 'dist/.build-stamp', output: 'dist/server/main.js', sources: ['src', 'package-lock.json', 'tsconfig.json', 'scripts/build-server.mjs'] })
if (!force && stamp.upToDate()) {
  process.stderr.write('- server: dist/ is up to date\n')
  process.exit(0)
}
process.stderr.write('- building the server into dist/...')
const started = performance.now()
const cli = readdirSync(path.join(root, 'src/cli')).filter((name) => name.endsWith('.ts'))
try {
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      'server/main': 'src/main.ts',
      ...Object.fromEntries(cli.map((name) => [`cli/${name.replace(/\.ts$/, '')}`, `src/cli/${name}`])),
    },
    outdir: 'dist',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Stack traces point into src/ with `node --enable-source-maps`; without the flag the maps cost nothing.
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  })
  const chunks = path.join(root, 'dist/chunks')
  const isChunk = (file) => path.dirname(file.path) === chunks
  for (const file of [...result.outputFiles.filter(isChunk), ...result.outputFiles.filter((file) => !isChunk(file))]) {
    mkdirSync(path.dirname(file.path), { recursive: true })
    const temporary = `${file.path}.${process.pid}.tmp`
    writeFileSync(temporary, file.contents)
    renameSync(temporary, file.path)
  }
  const written = new Set(result.outputFiles.map((file) => file.path))
  for (const name of existsSync(chunks) ? readdirSync(chunks) : []) {
    if (!written.has(path.join(chunks, name)) && !name.endsWith('.tmp')) rmSync(path.join(chunks, name), { force: true })
  }
} catch (error) {
  // esbuild has printed its own errors (a BuildFailure carries them); anything else is said here.
  process.stderr.write(` failed\n${error?.errors ? '' : `${error?.stack ?? error}\n`}`)
  process.exit(1)
}
stamp.markBuilt()
process.stderr.write(` done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
