import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) twins. Node loads the CJS one for
    // the externalized libraries (Pothos, Yoga); make the code Vite transforms use it too,
    // or schemas built on one are "from another module or realm" for the other.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    // PGlite's first start and the wasm schema engine take seconds; PostgreSQL tests share one server.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent' },
    projects: [
      { extends: true, test: { name: 'server', include: ['test/**/*.test.ts'] } },
      // The web client: component tests in jsdom, and end to end in Chromium against a real server.
      './web/vitest.config.ts',
      { extends: true, test: { name: 'browser', include: ['web/e2e/**/*.test.ts'], globalSetup: ['./web/e2e/build-web.ts'] } },
    ],
  },
})
