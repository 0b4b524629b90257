/** What the request benchmarks (bench:limits, bench:budget) share: a user with 100 contacts and a token, the query, and a timed round of it. */
import { issueToken } from '../src/auth/tokens.ts'
import { computeNextDueAt } from '../src/contacts/cadence.ts'
import type { PrismaClient } from '../src/generated/prisma/client.ts'

/** Creates `email` (default `bench@example.com`) with 100 contacts named `Contact 000`..`Contact 099`; returns the user's id and a bearer token. */
export async function createSmallUser(prisma: PrismaClient, email = 'bench@example.com'): Promise<{ userId: string; token: string }> {
  const createdAt = new Date()
  const user = await prisma.user.create({ data: { email } })
  await prisma.contact.createMany({
    data: Array.from({ length: 100 }, (_, i) => ({
      userId: user.id,
      name: `Contact ${String(i).padStart(3, '0')}`,
      createdAt,
      nextDueAt: computeNextDueAt({ frequencyPreference: null, dunbarCircle: null, lastContactDate: null, createdAt }),
    })),
  })
  return { userId: user.id, token: await issueToken(prisma, user.id) }
}

/** The small authenticated query both benchmarks send (`first: 10`). */
export const QUERY = 'query Home($first: Int) { me { email } contacts(first: $first) { edges { node { id name nextDueAt } } } }'

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** One timed round. */
export interface Round {
  rps: number
  /** CPU time of this process (servers and clients) per request, µs: less sensitive than req/s to the machine's other load. */
  cpuMicrosPerRequest: number
}

/**
 * Requests per second that `concurrency` clients get from `url` in `durationSeconds` with {@link QUERY}; every answer
 * must be 200 with data and no error, and pass `check` (which throws to fail the round).
 */
export async function measureRound(url: string, token: string, durationSeconds: number, concurrency: number, check: (response: Response) => void = () => {}): Promise<Round> {
  const cpu = process.cpuUsage()
  const body = JSON.stringify({ query: QUERY, variables: { first: 10 } })
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` }
  const until = performance.now() + durationSeconds * 1000
  let completed = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const response = await fetch(url, { method: 'POST', headers, body })
        const result = (await response.json()) as { data?: unknown; errors?: unknown[] }
        if (response.status !== 200 || result.errors || !result.data) throw new Error(`unexpected answer: ${response.status} ${JSON.stringify(result)}`)
        check(response)
        completed++
      }
    }),
  )
  const used = process.cpuUsage(cpu)
  return { rps: completed / durationSeconds, cpuMicrosPerRequest: (used.user + used.system) / completed }
}
