/**
 * A server as its users run it: `src/main.ts` in its own process (through tsx), or the
 * compiled `dist/server/main.js` as `npm start` runs it. Resolves once it logged its URL
 * (and, with `waitForToken`, the demo token); collects its JSON log lines.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { createInterface } from 'node:readline'

export const ROOT = path.resolve(import.meta.dirname, '../..')

/**
 * The SECRET_KEY of the processes a test process starts (random per test process):
 * they are one deployment, so a cursor signed by one is read by another.
 * Pass `SECRET_KEY: ''` to start without one.
 */
export const TEST_SECRET_KEY = randomBytes(48).toString('base64url')

export interface ServerProcess {
  child: ChildProcess
  url: string
  /** The demo token it printed (with `waitForToken`). */
  token: string | undefined
  logs: Record<string, unknown>[]
  /** What it wrote to stderr so far (in development, the start's steps for a person). */
  stderr: () => string
  exited: Promise<number | null>
}

/**
 * Builds `dist/` (scripts/build-server.mjs) unless it is up to date with the sources; throws with the
 * build's output when it fails. Safe to run from several processes at once.
 */
export function buildServer(): void {
  const build = spawnSync(process.execPath, ['scripts/build-server.mjs'], { cwd: ROOT, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`the server build failed: ${build.stderr}`)
}

export function startServerProcess(
  env: Record<string, string>,
  {
    waitForToken = false,
    nodeArgs = [],
    startTimeoutMs = 90_000,
    compiled = false,
  }: {
    waitForToken?: boolean
    nodeArgs?: string[]
    /** How long the start may take: a first start creates the embedded database (10-50 s on a quiet machine). */
    startTimeoutMs?: number
    /** Run `dist/server/main.js` (built first when missing or stale), as `npm start` does; default: `src/main.ts` through tsx. */
    compiled?: boolean
  } = {},
): Promise<ServerProcess> {
  if (compiled) buildServer()
  const entry = compiled ? ['dist/server/main.js'] : ['--import', 'tsx', 'src/main.ts']
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'development', LOG_LEVEL: 'info', SECRET_KEY: TEST_SECRET_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // 'close', not 'exit': by then its output has been read (the last log lines say why it stopped).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    let url: string | undefined
    let token: string | undefined
    const timer = setTimeout(() => reject(new Error(`no start within ${startTimeoutMs / 1000} s; stderr: ${stderr}`)), startTimeoutMs)
    // A production process says why it stopped in its JSON log (stdout), a development one also on stderr.
    void exited.then((code) => reject(new Error(`exited with ${code}: ${[...logs.slice(-5).map((entry) => JSON.stringify(entry)), stderr].join('\n').trim()}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      if (typeof entry.url === 'string') url = entry.url
      token ??= /Bearer <token>"\): (\S+)/.exec(String(entry.msg))?.[1]
      if (url && (token || !waitForToken)) {
        clearTimeout(timer)
        resolve({ child, url, token, logs, stderr: () => stderr, exited })
      }
    })
  })
}
