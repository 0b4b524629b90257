/**
 * One import: its progress while it runs (the `importProgress` subscription, or polling
 * `import(id)` every few seconds when the stream fails), then its report: the counts and
 * the rejected rows, a page at a time, with a CSV of all of them to download.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { useClient, useQuery } from 'urql'
import { ImportProgressSubscription, ImportQuery } from '../api/documents.ts'
import { apiErrorOf, type ApiError } from '../api/errors.ts'
import { useApiClient, useUnauthorized } from '../api/provider.tsx'
import { formatCount as count, formatDateTime } from '../format.ts'
import type { ResultOf } from '../graphql.ts'
import { REJECTED_ROWS_HEADER, rejectedRowsCsv, saveBlob, type RejectedRow } from './files.ts'

export type ImportSummary = ResultOf<typeof ImportProgressSubscription>['importProgress']
type ImportStatus = ImportSummary['status']

/** Rejected rows shown at a time, and asked for per page when downloading them all. */
export const ERRORS_PAGE_SIZE = 50
// The server takes 1..100 a page (MAX_IMPORTS_PAGE).
export const DOWNLOAD_PAGE_SIZE = 100
/** How often `import(id)` is asked again when the progress stream failed (ms). */
export const POLL_INTERVAL_MS = 2000

export const finished = (status: ImportStatus) => status === 'SUCCEEDED' || status === 'FAILED'

/** What the progress line says: "Waiting to start", "Importing: 1,200 of 5,000 rows", "Finished", "Failed: …". */
export function progressText(item: Pick<ImportSummary, 'status' | 'done' | 'total' | 'error'>): string {
  switch (item.status) {
    case 'QUEUED':
      return 'Waiting to start…'
    case 'RUNNING':
      return item.total === null || item.total === undefined ? `Importing: ${count(item.done)} rows so far…` : `Importing: ${count(item.done)} of ${count(item.total)} rows…`
    case 'SUCCEEDED':
      return 'Finished.'
    case 'FAILED':
      return `Failed${item.error ? `: ${item.error}` : '.'}`
  }
}

/**
 * Follows `id` while `follow`: the subscription's latest answer (`null` before the first),
 * whether the stream has ended, and why when it failed. `onEnded` is called when it ends
 * either way; a rejected token calls `onUnauthorized` as well.
 */
function useImportProgress(id: string, follow: boolean, onEnded: () => void, onUnauthorized: () => void) {
  const client = useApiClient()
  const [latest, setLatest] = useState<ImportSummary | null>(null)
  const [ended, setEnded] = useState<{ error: ApiError | null } | null>(null)
  // The callbacks change with the parent's renders; the subscription must not restart for that.
  const callbacks = useRef({ onEnded, onUnauthorized })
  useEffect(() => {
    callbacks.current = { onEnded, onUnauthorized }
  })
  useEffect(() => {
    if (!follow) return
    setEnded(null)
    return client.subscribe(
      ImportProgressSubscription,
      { id },
      {
        next: (data) => setLatest(data.importProgress),
        error: (error) => {
          if (error.unauthorized) callbacks.current.onUnauthorized()
          setEnded({ error })
          callbacks.current.onEnded()
        },
        complete: () => {
          setEnded({ error: null })
          callbacks.current.onEnded()
        },
      },
    )
  }, [client, id, follow])
  return { latest, ended }
}

type ErrorsPage = NonNullable<ResultOf<typeof ImportQuery>['import']>['errors']

/** The rejected rows: `firstPage` (from the report's query), more on demand, all as a CSV download. */
function RejectedRows({ id, total, format, firstPage }: { id: string; total: number; format: string; firstPage: ErrorsPage | undefined }) {
  const client = useClient()
  const [more, setMore] = useState<{ rows: RejectedRow[]; endCursor: string | null; hasNextPage: boolean } | null>(null)
  const [busy, setBusy] = useState<'more' | 'download' | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const rows = [...(firstPage?.edges.map((edge) => edge.node) ?? []), ...(more?.rows ?? [])]
  const pageInfo = more ?? firstPage?.pageInfo

  /** One page of rejected rows after `after`, from the network. */
  const page = useCallback(
    async (after: string | null | undefined, size: number) => {
      const { data, error } = await client.query(ImportQuery, { id, first: size, after: after ?? null }, { requestPolicy: 'network-only' }).toPromise()
      const errors = data?.import?.errors
      if (!errors) throw new Error(error ? apiErrorOf(error).message : 'The import is gone.')
      return { rows: errors.edges.map((edge) => edge.node), endCursor: errors.pageInfo.endCursor ?? null, hasNextPage: errors.pageInfo.hasNextPage }
    },
    [client, id],
  )

  const showMore = async () => {
    setBusy('more')
    setMessage(null)
    try {
      const next = await page(pageInfo?.endCursor, ERRORS_PAGE_SIZE)
      setMore({ rows: [...(more?.rows ?? []), ...next.rows], endCursor: next.endCursor, hasNextPage: next.hasNextPage })
    } catch (error) {
      setMessage(`Could not load more rows: ${(error as Error).message}`)
    } finally {
      setBusy(null)
    }
  }

  const download = async () => {
    setBusy('download')
    setMessage(null)
    try {
      // Page by page into the Blob's parts: the text of each page, never the rows as objects.
      const parts: string[] = [REJECTED_ROWS_HEADER]
      let after: string | null = null
      for (;;) {
        const next = await page(after, DOWNLOAD_PAGE_SIZE)
        parts.push(rejectedRowsCsv(next.rows))
        if (!next.hasNextPage || !next.endCursor) break
        after = next.endCursor
      }
      saveBlob(new Blob(parts, { type: 'text/csv;charset=utf-8' }), `rejected-rows-${format.toLowerCase()}.csv`)
      setMessage('Rejected rows downloaded.')
    } catch (error) {
      setMessage(`Could not download them: ${(error as Error).message}`)
    } finally {
      setBusy(null)
    }
  }

  if (total === 0) return null
  return (
    <section aria-labelledby={`rejected-${id}`} className="rejected">
      <h3 id={`rejected-${id}`}>Rejected rows</h3>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Line or card</th>
              <th scope="col">Field</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={`${row.position}-${index}`} data-testid="rejected-row">
                <td>{row.position}</td>
                <td>{row.field ?? '—'}</td>
                <td>{row.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="actions">
        {pageInfo?.hasNextPage && (
          <button type="button" onClick={showMore} disabled={busy !== null}>
            {busy === 'more' ? 'Loading…' : 'Show more rejected rows'}
          </button>
        )}
        <button type="button" onClick={download} disabled={busy !== null}>
          {busy === 'download' ? 'Preparing…' : 'Download rejected rows'}
        </button>
      </p>
      <p role="status">{message}</p>
    </section>
  )
}

export interface ImportReportProps {
  id: string
  /** The file's name, when this page uploaded it. */
  fileName?: string
  /** Known to be finished already (picked from the list): not followed unless `import(id)` says it runs. */
  knownFinished?: boolean
  /** Called once when the import is seen finished (to refresh the list of imports). */
  onFinished?: () => void
  onUnauthorized: () => void
  /** The user's IANA zone for the times (the browser's when null). */
  userZone?: string | null
}

/** Under an `ApiProvider`. */
export function ImportReport({ id, fileName, knownFinished = false, onFinished, onUnauthorized, userZone = null }: ImportReportProps) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ImportQuery, variables: { id, first: ERRORS_PAGE_SIZE } })
  useUnauthorized(error, onUnauthorized)
  const fromQuery = data?.import ?? null
  // Follow the stream unless the query already says the import is over.
  const follow = !(fromQuery ? finished(fromQuery.status) : knownFinished)
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute])
  const { latest, ended } = useImportProgress(id, follow, refresh, onUnauthorized)
  // The stream ended (or failed) but the import is not seen finished yet: ask until it is.
  const polling = ended !== null && !ended.error?.unauthorized && follow
  useEffect(() => {
    if (!polling) return
    const timer = setInterval(refresh, POLL_INTERVAL_MS)
    return () => clearInterval(timer)
  }, [polling, refresh])

  // The newest of the two: the stream runs ahead of the query until it ends (then `refresh`
  // brings the report with its rejected rows; polling, should the query still say it runs).
  const item = fromQuery && finished(fromQuery.status) ? fromQuery : (latest ?? fromQuery)
  const done = item !== null && finished(item.status)
  useEffect(() => {
    if (done) onFinished?.()
  }, [done, onFinished])

  const title = fileName ? `Import of ${fileName}` : 'Import'
  if (!item) {
    if (error && !fetching && !apiErrorOf(error).unauthorized) return <p role="alert">{apiErrorOf(error).message}</p>
    if (data && data.import === null) return <p role="alert">No such import.</p>
    return (
      <section className="import-report" aria-label={title} aria-busy="true">
        <p role="status">Starting…</p>
      </section>
    )
  }
  return (
    <section className="import-report" aria-labelledby={`report-${id}`}>
      <h2 id={`report-${id}`}>{title}</h2>
      <p className="meta">
        {item.format.toUpperCase()} · started {formatDateTime(item.startedAt ?? item.createdAt, userZone)}
        {item.finishedAt ? ` · finished ${formatDateTime(item.finishedAt, userZone)}` : ''}
      </p>
      <p role="status" aria-live="polite" className={item.status === 'FAILED' ? 'error' : undefined} data-testid="import-status">
        {progressText(item)}
        {polling && ended?.error ? ' (live progress lost: checking every few seconds)' : ''}
      </p>
      {!done && (item.total ? <progress aria-label="Import progress" value={item.done} max={item.total} /> : <progress aria-label="Import progress" />)}
      <dl className="counts" data-testid="import-counts">
        <div>
          <dt>Created</dt>
          <dd>{count(item.created)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{count(item.updated)}</dd>
        </div>
        <div>
          <dt>Unchanged</dt>
          <dd>{count(item.unchanged)}</dd>
        </div>
        <div>
          <dt>Rejected</dt>
          <dd>{count(item.rejected)}</dd>
        </div>
      </dl>
      {done && <RejectedRows id={id} total={item.rejected} format={item.format} firstPage={fromQuery && finished(fromQuery.status) ? fromQuery.errors : undefined} />}
    </section>
  )
}
