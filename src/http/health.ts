/** `/health`: liveness is answering at all; readiness includes the database (200 `ok`, or 503 `unavailable`). */
import type { ServerResponse } from 'node:http'
import type { Database } from '../db/database.ts'

export const HEALTH_PATH = '/health'

/** Answers `/health` with `{ status, database }` after one `SELECT 1`. */
export function serveHealth(db: Pick<Database, 'query'>) {
  return async (res: ServerResponse): Promise<void> => {
    const ready = await db.query('SELECT 1').then(
      () => true,
      () => false,
    )
    res.statusCode = ready ? 200 : 503
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ status: ready ? 'ok' : 'unavailable', database: ready ? 'up' : 'down' }))
  }
}
