/**
 * `POST /dev/token` (development only): mints a bearer token for a user of the running server, so that
 * `npm run token` works while `npm start` holds the embedded database (PGlite is one process's database,
 * issue 13 item 10). The caller proves it may read the data directory: it sends the server's secret key
 * (`SECRET_KEY`, or `DATA_DIR/secret-key`) as `x-secret-key`, and it must be on this machine (a loopback
 * client asking for a loopback host). Body: `{"user": "<email>", "name": "<label>"}` (at most 4 KiB);
 * answer `200 {"token": "..."}`. Refusals (JSON, `extensions.code`): 405 BAD_REQUEST (not a POST),
 * 403 FORBIDDEN (not loopback, or a wrong key), 400 BAD_USER_INPUT (the body), 429 RATE_LIMITED
 * (the user's active tokens).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { z } from 'zod'
import { issueToken } from '../auth/tokens.ts'
import { ensureUser } from '../auth/users.ts'
import { ClientError } from '../errors.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { Logger } from '../logger.ts'
import { storableString } from '../validation.ts'
import { sendJsonError } from './json-error.ts'
import { isLoopbackClient } from './loopback.ts'

export const DEV_TOKEN_PATH = '/dev/token'
/** The largest body the route reads (bytes). */
const MAX_BODY_BYTES = 4096

// Storable strings only: a NUL or a lone surrogate reaches PostgreSQL otherwise, and fails there (500).
const bodySchema = z.object({ user: storableString().max(320), name: storableString().max(100).optional() })

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Reads a body of at most `max` bytes, or null when it is longer. */
async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > max) return null
    parts.push(chunk)
  }
  return Buffer.concat(parts).toString('utf8')
}

/** The handler of {@link DEV_TOKEN_PATH}; mount it in development only. */
export function serveDevToken({ prisma, secretKey, maxActive, logger }: { prisma: PrismaClient; secretKey: string; maxActive: number; logger: Logger }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return sendJsonError(res, 405, 'BAD_REQUEST', `POST ${DEV_TOKEN_PATH} with {"user": "<email>"}.`)
    const given = req.headers['x-secret-key']
    if (!isLoopbackClient(req) || typeof given !== 'string' || !timingSafeEqual(digest(given), digest(secretKey))) {
      req.resume()
      return sendJsonError(res, 403, 'FORBIDDEN', 'Only a process on this machine that can read the data directory (its secret key) may mint tokens here.')
    }
    try {
      const text = await readBody(req, MAX_BODY_BYTES)
      let json: unknown = null
      try {
        json = text === null ? null : JSON.parse(text)
      } catch {
        json = null
      }
      const body = bodySchema.safeParse(json)
      if (!body.success) return sendJsonError(res, 400, 'BAD_USER_INPUT', `Send {"user": "<email>", "name": "<label>"} (at most ${MAX_BODY_BYTES} bytes).`)
      const user = await ensureUser(prisma, body.data.user)
      const token = await issueToken(prisma, user.id, body.data.name ?? 'cli', { maxActive })
      res.statusCode = 200
      res.setHeader('content-type', 'application/json; charset=utf-8')
      res.setHeader('cache-control', 'no-store')
      res.end(JSON.stringify({ token }))
    } catch (error) {
      if (error instanceof ClientError) return sendJsonError(res, error.code === 'RATE_LIMITED' ? 429 : 400, error.code, error.message, error.details)
      logger.error({ err: error }, 'dev token failed')
      sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.')
    }
  }
}

/** The file, inside DATA_DIR, where a development server says where it listens (`{"url", "pid"}`) while it runs. */
export const SERVER_FILE = 'server.json'

/** Writes {@link SERVER_FILE} (mode 0600); returns the function that removes it. */
export async function writeServerFile(dataDir: string, url: string): Promise<() => void> {
  const file = path.join(dataDir, SERVER_FILE)
  await writeFile(file, `${JSON.stringify({ url, pid: process.pid })}\n`, { mode: 0o600 })
  return () => rmSync(file, { force: true })
}

/**
 * The client side, for `npm run token`: asks the development server that holds `dataDir` (its
 * {@link SERVER_FILE}) for a token of `user`, proving itself with `secretKey`.
 *
 * @throws Error with a message for the user when no server runs there or it refuses.
 */
export async function mintTokenThroughServer(dataDir: string, secretKey: string, user: string, name: string | undefined): Promise<string> {
  let url: string
  try {
    url = (JSON.parse(await readFile(path.join(dataDir, SERVER_FILE), 'utf8')) as { url: string }).url
  } catch {
    throw new Error(`no running development server says where it is (${path.join(dataDir, SERVER_FILE)})`)
  }
  const response = await fetch(new URL(DEV_TOKEN_PATH, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-secret-key': secretKey },
    body: JSON.stringify({ user, ...(name === undefined ? {} : { name }) }),
  })
  const body = (await response.json().catch(() => ({}))) as { token?: string; errors?: { message: string }[] }
  if (response.status !== 200 || typeof body.token !== 'string') throw new Error(`the running server refused: ${body.errors?.[0]?.message ?? `HTTP ${response.status}`}`)
  return body.token
}
