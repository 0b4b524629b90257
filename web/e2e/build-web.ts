/** Vitest global setup for the browser tests: build the web client once, as `npm start` does. */
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's (and urql's) development
  // builds: build what `npm start` serves instead.
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } })
}
