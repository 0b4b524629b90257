/**
 * Debian's Radicale (CardDAV + CalDAV) for the sync tests: one server per call, on a free loopback
 * port, with a throwaway storage folder and plain htpasswd users. In CI a missing or failing Radicale
 * is a failure (`.ci/run` installs it); outside CI its tests skip with a warning.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const RADICALE_PATH = process.env.RADICALE_PATH ?? '/usr/bin/radicale'
const inCI = process.env.CI === 'true' || process.env.CI === '1'

/** True when Radicale is installed; throws in CI when it is not. */
export function radicaleAvailable(): boolean {
  const found = existsSync(RADICALE_PATH)
  if (!found && inCI) throw new Error(`Radicale is missing at ${RADICALE_PATH} (apt-get install radicale); the DAV tests never skip in CI`)
  if (!found) process.stderr.write(`warning: ${RADICALE_PATH} is missing; the DAV sync tests are skipped (outside CI only)\n`)
  return found
}

export interface Radicale {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string
  /** The users and passwords it accepts. */
  users: Record<string, string>
  /** Basic auth header value for `user`. */
  authorization(user: string): string
  /** Creates an address book (`MKCOL` with `CARD:addressbook`) at `/<user>/<name>/`; returns its absolute URL. */
  createAddressBook(user: string, name: string, displayName?: string): Promise<string>
  /** Creates a calendar (`MKCALENDAR`) at `/<user>/<name>/`; returns its absolute URL. */
  createCalendar(user: string, name: string, displayName?: string): Promise<string>
  /** PUT of a resource as `user` (no precondition); returns the new ETag. */
  put(user: string, url: string, body: string, contentType: string): Promise<string | null>
  /** DELETE of a resource as `user`. */
  remove(user: string, url: string): Promise<void>
  /**
   * The folder of the collection `/<user>/<name>/` in Radicale's filesystem storage, where each member is a file
   * named as its href's last segment: a bench can write thousands of members there in a second, where one PUT
   * of them takes minutes. Radicale reads them (and builds its cache) at the next request.
   */
  collectionFolder(user: string, name: string): string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Starts a Radicale with `users` (default alice / bob); resolves once it answers HTTP. */
export async function startRadicale(users: Record<string, string> = { alice: 'alice-password', bob: 'bob-password' }): Promise<Radicale> {
  const dir = await mkdtemp(path.join(tmpdir(), 'radicale-'))
  await writeFile(path.join(dir, 'users'), Object.entries(users).map(([user, password]) => `${user}:${password}\n`).join(''))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(
    RADICALE_PATH,
    [
      '--server-hosts', `127.0.0.1:${port}`,
      '--storage-filesystem-folder', path.join(dir, 'collections'),
      '--auth-type', 'htpasswd',
      '--auth-htpasswd-filename', path.join(dir, 'users'),
      '--auth-htpasswd-encryption', 'plain',
      '--rights-type', 'owner_only',
      '--logging-level', 'warning',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)))
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`radicale exited (${code}) before answering: ${stderr}`))))
  const deadline = Date.now() + 20_000
  // Wait on the server itself: each attempt is a real request, not a sleep standing in for readiness.
  for (;;) {
    const answered = await Promise.race([fetch(`${url}/.well-known/carddav`, { redirect: 'manual' }).then(() => true, () => false), exited])
    if (answered) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`radicale did not answer on ${url} within 20 s: ${stderr}`)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  exited.catch(() => {})
  const authorization = (user: string) => `Basic ${Buffer.from(`${user}:${users[user]}`).toString('base64')}`
  const send = async (user: string, method: string, target: string, body?: string, headers: Record<string, string> = {}) => {
    const response = await fetch(target, { method, body, headers: { authorization: authorization(user), ...headers } })
    if (!response.ok) throw new Error(`${method} ${target}: ${response.status} ${await response.text()}`)
    return response
  }
  const collectionUrl = (user: string, name: string) => `${url}/${encodeURIComponent(user)}/${encodeURIComponent(name)}/`
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  return {
    url,
    users,
    authorization,
    collectionFolder: (user, name) => path.join(dir, 'collections', 'collection-root', user, name),
    async createAddressBook(user, name, displayName = name) {
      const target = collectionUrl(user, name)
      await send(
        user,
        'MKCOL',
        target,
        `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>${escape(displayName)}</D:displayname></D:prop></D:set></D:mkcol>`,
        { 'content-type': 'application/xml; charset=utf-8' },
      )
      return target
    },
    async createCalendar(user, name, displayName = name) {
      const target = collectionUrl(user, name)
      await send(
        user,
        'MKCALENDAR',
        target,
        `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${escape(displayName)}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
        { 'content-type': 'application/xml; charset=utf-8' },
      )
      return target
    },
    async put(user, target, body, contentType) {
      const response = await send(user, 'PUT', target, body, { 'content-type': contentType })
      return response.headers.get('etag')
    },
    async remove(user, target) {
      await send(user, 'DELETE', target)
    },
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await gone
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
