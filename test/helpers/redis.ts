/**
 * The Redis on 127.0.0.1:6379 for the scale-out tests. In CI a missing Redis
 * is a failure; outside CI its tests skip with a warning. Each test gets its
 * own key prefix, so concurrent runs never collide.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const inCI = process.env.CI === 'true' || process.env.CI === '1'

let reachable: boolean | undefined

/** True when Redis answers; throws in CI when it does not. */
export async function redisAvailable(): Promise<boolean> {
  if (reachable === undefined) {
    const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 })
    reachable = await client
      .connect()
      .then(() => client.ping())
      .then(() => true, () => false)
    client.disconnect()
  }
  if (!reachable && inCI) throw new Error(`Redis is required in CI and is not reachable at ${TEST_REDIS_URL}`)
  if (!reachable) process.stderr.write(`warning: Redis not reachable at ${TEST_REDIS_URL}; its tests are skipped (outside CI only)\n`)
  return reachable
}

/** A prefix unique to this test run, for Redis keys and channels. */
export const uniquePrefix = (name: string) => `test-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
