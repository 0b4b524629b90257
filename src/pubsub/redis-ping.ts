/** A start-up check that Redis answers, before BullMQ and the pub/sub clients connect (they retry forever). */
import { Redis } from 'ioredis'

/** How long the start-up check waits for Redis to connect and answer, ms. */
export const REDIS_PING_TIMEOUT_MS = 3000

/**
 * Connects to `url` once (no retries) and sends PING; resolves when Redis answers PONG.
 * Rejects with the connection's error (e.g. code ECONNREFUSED), or an ETIMEDOUT one after `timeoutMs`.
 */
export async function pingRedis(url: string, timeoutMs = REDIS_PING_TIMEOUT_MS): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectionName: 'startup-ping',
  })
  // Without a listener ioredis prints "Unhandled error event"; kept because connect() then rejects
  // with a bare "Connection is closed." that does not say why.
  let cause: unknown
  client.on('error', (error) => (cause ??= error))
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw cause ?? error
  } finally {
    client.disconnect()
  }
}
