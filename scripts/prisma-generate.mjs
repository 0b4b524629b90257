// Runs `prisma generate` offline. The Prisma CLI tries to download its native
// schema engine at start-up unless PRISMA_SCHEMA_ENGINE_BINARY names an existing
// path; generate never runs that engine, so any existing file will do.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
  cwd: `${here}/..`,
})
process.exit(result.status ?? 1)
