/**
 * Issue 10, kinds 1 and 5, in a server process with a 160 MB heap:
 * - 1,000 distinct anonymous documents just under and just over the document
 *   limit (`{ __typename } # <n> <padding>`, 256 KiB here). Yoga's default
 *   cache kept up to 1,024 of them by their text, with no bound in bytes: the
 *   process died of its heap after a few hundred. Now the cache is bounded in
 *   bytes and documents over the limit are refused before parsing (413).
 * - unauthenticated 90 MB graphql-ws frames: `ws` read them in full (its
 *   default maxPayload is 100 MiB); now the socket closes with 1009 from the
 *   frame's header and the server's memory does not move.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts'

const DOCUMENT_LIMIT = 256 * 1024

/** The process's resident set, bytes (Linux). */
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024

// 160 MB: the server's own live heap is ~95 MB at rest (issue 14 is to bring it down); at 128 MB, with
// issue 13's larger schema, the process died of its heap under load (V8 OOM, seen as 1006 or a hang)
// before any frame was the cause. Frames read in full would still need 270 MB.
describe('a server process with a 160 MB heap', () => {
  let dataDir: string
  let server: ServerProcess
  // Dying of its heap, the process aborts: a signal, no exit code.
  const alive = () => server.child.exitCode === null && server.child.signalCode === null

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'limits-memory-'))
    server = await startServerProcess(
      { DATA_DIR: dataDir, NODE_ENV: 'test', SEED_DEMO_DATA: 'false', MAX_DOCUMENT_BYTES: String(DOCUMENT_LIMIT), MAX_REQUEST_BODY_BYTES: String(2 * DOCUMENT_LIMIT) },
      { nodeArgs: ['--max-old-space-size=160'] },
    )
  }, 120_000)
  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('answers 1,000 distinct large documents and stays alive', async () => {
    const outcomes = new Map<string, number>()
    const send = async (n: number) => {
      // Even: just under the limit (answered); odd: just over it (413, never parsed).
      const size = n % 2 === 0 ? DOCUMENT_LIMIT - 16 : DOCUMENT_LIMIT + 1
      const head = `{ __typename } # ${n} `
      const query = head + 'x'.repeat(size - head.length)
      const outcome = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }).then(
        async (response) => {
          const body = (await response.json()) as { data?: { __typename: string }; errors?: { extensions?: { code?: string } }[] }
          return `${response.status} ${body.data?.__typename ?? body.errors?.[0]?.extensions?.code}`
        },
        () => 'no answer',
      )
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
    }
    for (let n = 0; n < 1000 && alive(); n += 4) await Promise.all([n, n + 1, n + 2, n + 3].map(send))
    expect(alive()).toBe(true)
    expect(Object.fromEntries(outcomes)).toEqual({ '200 Query': 500, '413 BAD_REQUEST': 500 })
    expect((await fetch(server.url.replace(/graphql$/, 'health'))).status).toBe(200)
    expect(server.logs.filter((entry) => Number(entry.level) >= 50)).toEqual([])
  }, 180_000)

  it('closes unauthenticated 90 MB graphql-ws frames with 1009 without reading them', async () => {
    const before = rssOf(server.child.pid!)
    const frame = Buffer.alloc(90 * 1024 * 1024, 'x')
    const codes = await Promise.all(
      Array.from({ length: 3 }, async () => {
        // A zero mask: ws then sends the 90 MB as they are instead of masking them first, which on a
        // busy machine took longer than the server's 3 s wait for connection_init (closing with 4408).
        const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { generateMask: (mask) => void mask.fill(0) })
        socket.on('error', () => {})
        await new Promise((resolve) => socket.once('open', resolve))
        const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
        socket.send(frame)
        return closed
      }),
    )
    expect(codes).toEqual([1009, 1009, 1009])
    // Three frames read in full would be 270 MB; the server read their headers.
    expect(rssOf(server.child.pid!) - before).toBeLessThan(50 * 1024 * 1024)
    expect(alive()).toBe(true)
  }, 120_000)
})
