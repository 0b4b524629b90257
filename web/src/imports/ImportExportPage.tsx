/**
 * The Import and export page: upload a contacts or calendar file (chosen or dropped) and follow
 * it to its report, the past imports, the exports, and the secret calendar feed of planned
 * catch-ups (created or rotated with its URL shown once, copied, turned off).
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { CalendarFeedQuery, ImportsQuery, RevokeCalendarFeed, RotateCalendarFeed } from '../api/documents.ts'
import { apiErrorOf, type ApiError } from '../api/errors.ts'
import { useApiClient, useUnauthorized } from '../api/provider.tsx'
import { formatDateTime } from '../format.ts'
import { ACCEPTED_FILES, downloadExport, EXPORTS, uploadImport } from './files.ts'
import { finished, ImportReport, progressText } from './ImportReport.tsx'

/** Past imports listed. */
export const IMPORTS_LISTED = 20

interface Selected {
  id: string
  fileName?: string
  knownFinished?: boolean
}

function ImportForm({ onStarted, onUnauthorized }: { onStarted: (selected: Selected) => void; onUnauthorized: () => void }) {
  const client = useApiClient()
  const [dragging, setDragging] = useState(false)
  const [uploading, setUploading] = useState<string | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  // The file input is disabled while uploading, which takes focus from it: it gets it back after.
  const input = useRef<HTMLInputElement>(null)
  const refocus = useRef(false)
  useEffect(() => {
    if (uploading !== null || !refocus.current) return
    refocus.current = false
    input.current?.focus()
  }, [uploading])

  const upload = async (file: File | undefined) => {
    if (!file || uploading) return
    setProblem(null)
    refocus.current = document.activeElement === input.current
    setUploading(file.name)
    try {
      const { id } = await uploadImport(client.http, file)
      onStarted({ id, fileName: file.name })
    } catch (error) {
      const apiError = error as ApiError
      if (apiError.unauthorized) onUnauthorized()
      setProblem(`Could not import ${file.name}: ${apiError.message}`)
    } finally {
      setUploading(null)
    }
  }
  const over = (event: DragEvent) => {
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
    setDragging(true)
  }
  const drop = (event: DragEvent) => {
    event.preventDefault()
    setDragging(false)
    void upload(event.dataTransfer.files[0])
  }

  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title">Import</h2>
      <p className="hint">
        Contacts from a vCard (.vcf) or a Google or Outlook CSV (.csv) file; busy time from a calendar (.ics) file. Importing the same file again changes
        nothing.
      </p>
      <div className={dragging ? 'dropzone dragging' : 'dropzone'} data-testid="dropzone" onDragOver={over} onDragEnter={over} onDragLeave={() => setDragging(false)} onDrop={drop}>
        <label>
          Choose a file to import{' '}
          <input
            ref={input}
            type="file"
            accept={ACCEPTED_FILES}
            disabled={uploading !== null}
            onChange={(event) => {
              void upload(event.target.files?.[0])
              event.target.value = ''
            }}
          />
        </label>
        <span className="hint">or drop it here</span>
      </div>
      <p role="status">{uploading ? `Uploading ${uploading}…` : ''}</p>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </section>
  )
}

function PastImports({
  refreshes,
  selectedId,
  onSelect,
  onUnauthorized,
  userZone,
}: {
  refreshes: number
  selectedId: string | null
  onSelect: (selected: Selected) => void
  onUnauthorized: () => void
  userZone: string | null
}) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: ImportsQuery, variables: { first: IMPORTS_LISTED } })
  useUnauthorized(error, onUnauthorized)
  useEffect(() => {
    if (refreshes > 0) reexecute({ requestPolicy: 'network-only' })
  }, [refreshes, reexecute])
  const imports = data?.imports?.edges.map((edge) => edge.node) ?? []
  return (
    <section aria-labelledby="imports-title">
      <h2 id="imports-title">Past imports</h2>
      {error && !data && <p role="alert">Could not list them: {apiErrorOf(error).message}</p>}
      {data && imports.length === 0 && <p>None yet.</p>}
      {!data && fetching && <p aria-busy="true">Loading…</p>}
      <ul className="imports">
        {imports.map((item) => (
          <li key={item.id} data-testid="past-import">
            <button type="button" aria-pressed={item.id === selectedId} onClick={() => onSelect({ id: item.id, knownFinished: finished(item.status) })}>
              {formatDateTime(item.createdAt, userZone)} · {item.format.toUpperCase()}
            </button>{' '}
            <span className={item.status === 'FAILED' ? 'error' : 'hint'}>
              {finished(item.status)
                ? `${item.status === 'FAILED' ? 'Failed' : 'Done'}: ${item.created} created, ${item.updated} updated, ${item.unchanged} unchanged, ${item.rejected} rejected`
                : progressText(item)}
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}

function ExportMenu({ onUnauthorized }: { onUnauthorized: () => void }) {
  const client = useApiClient()
  const [busy, setBusy] = useState<string | null>(null)
  const [message, setMessage] = useState<{ text: string; failed: boolean } | null>(null)
  const download = async (path: string, fileName: string) => {
    if (busy) return
    setBusy(path)
    setMessage(null)
    try {
      await downloadExport(client.http, path, fileName)
      setMessage({ text: `${fileName} downloaded.`, failed: false })
    } catch (error) {
      const apiError = error as ApiError
      if (apiError.unauthorized) onUnauthorized()
      setMessage({ text: `Could not export ${fileName}: ${apiError.message}`, failed: true })
    } finally {
      setBusy(null)
    }
  }
  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">Export</h2>
      <p className="hint">Everything you keep here, to take elsewhere or to import again.</p>
      <ul className="exports" aria-label="Export files">
        {EXPORTS.map(({ path, fileName, label }) => (
          <li key={path}>
            {/* aria-disabled, not disabled: a disabled button loses focus, and the keyboard user with it. */}
            <button type="button" onClick={() => void download(path, fileName)} aria-disabled={busy !== null}>
              {busy === path ? `Preparing ${fileName}…` : label}
            </button>
          </li>
        ))}
      </ul>
      <p role="status" className={message?.failed ? 'error' : undefined}>
        {message?.text}
      </p>
    </section>
  )
}

function CalendarFeed({ onUnauthorized, userZone }: { onUnauthorized: () => void; userZone: string | null }) {
  const [{ data, error, fetching }, reexecute] = useQuery({ query: CalendarFeedQuery })
  useUnauthorized(error, onUnauthorized)
  const [rotation, rotate] = useMutation(RotateCalendarFeed)
  const [revocation, revoke] = useMutation(RevokeCalendarFeed)
  // The URL is in rotateCalendarFeed's answer only: kept while the page is open, never stored.
  const [url, setUrl] = useState<string | null>(null)
  const [message, setMessage] = useState<{ text: string; failed: boolean } | null>(null)
  const feed = data?.calendarFeed ?? null
  const saving = rotation.fetching || revocation.fetching
  // After an action, focus goes where the user will want it, never to <body> with a button that went away:
  // the new URL (selected, to copy), or the Create button once the feed is off.
  const urlField = useRef<HTMLInputElement>(null)
  const rotateButton = useRef<HTMLButtonElement>(null)
  const [focusNext, setFocusNext] = useState<'url' | 'rotate' | null>(null)
  useEffect(() => {
    if (!focusNext) return
    const target = focusNext === 'url' ? urlField.current : rotateButton.current
    if (!target) return
    target.focus()
    setFocusNext(null)
  }, [focusNext, url, data])

  const onRotate = async () => {
    if (saving) return
    setMessage(null)
    const result = await rotate({})
    if (!result.data) return setMessage({ text: `Could not make a feed URL: ${result.error ? apiErrorOf(result.error).message : 'unknown error'}`, failed: true })
    const made = result.data.rotateCalendarFeed.url
    // A calendar app needs the whole address, whatever form the server gives it in.
    setUrl(made ? new URL(made, window.location.href).href : null)
    setFocusNext('url')
    setMessage({ text: feed ? 'New feed URL made; the old one no longer works.' : 'Feed URL made.', failed: false })
    reexecute({ requestPolicy: 'network-only' })
  }
  const onRevoke = async () => {
    if (saving) return
    setMessage(null)
    const result = await revoke({})
    if (!result.data) return setMessage({ text: `Could not turn the feed off: ${result.error ? apiErrorOf(result.error).message : 'unknown error'}`, failed: true })
    setUrl(null)
    setFocusNext('rotate')
    setMessage({ text: 'Feed turned off: its URL no longer works.', failed: false })
    reexecute({ requestPolicy: 'network-only' })
  }
  const copy = async () => {
    if (!url) return
    try {
      await navigator.clipboard.writeText(url)
      setMessage({ text: 'Feed URL copied.', failed: false })
    } catch {
      setMessage({ text: 'Could not copy: select the URL and copy it.', failed: true })
    }
  }

  return (
    <section aria-labelledby="feed-title">
      <h2 id="feed-title">Calendar feed</h2>
      <p className="hint">A private address your calendar app can subscribe to, to show the catch-ups you planned. Anyone with the address can read it.</p>
      {error && !data && <p role="alert">Could not load the feed: {apiErrorOf(error).message}</p>}
      {!data && fetching && <p aria-busy="true">Loading…</p>}
      {data && <p data-testid="feed-state">{feed ? `A feed exists, made ${formatDateTime(feed.createdAt, userZone)}.` : 'No feed.'}</p>}
      {url && (
        <div className="feed-url">
          <label>
            Feed URL (shown once: copy it now){' '}
            <input ref={urlField} type="text" readOnly value={url} onFocus={(event) => event.target.select()} />
          </label>
          <button type="button" onClick={() => void copy()}>
            Copy
          </button>
        </div>
      )}
      {data && (
        <p className="actions">
          <button ref={rotateButton} type="button" onClick={() => void onRotate()} aria-disabled={saving}>
            {feed ? 'Rotate feed URL' : 'Create feed URL'}
          </button>
          {feed && (
            <button type="button" onClick={() => void onRevoke()} aria-disabled={saving}>
              Turn off feed
            </button>
          )}
        </p>
      )}
      <p role="status" className={message?.failed ? 'error' : undefined}>
        {message?.text}
      </p>
    </section>
  )
}

/** Under an `ApiProvider`. Times are shown in `userZone` (me.timezone; the browser's while unknown), as on the other pages. */
export function ImportExportPage({ onUnauthorized, userZone = null }: { onUnauthorized: () => void; userZone?: string | null }) {
  const [selected, setSelected] = useState<Selected | null>(null)
  const [refreshes, setRefreshes] = useState(0)
  const refreshList = useCallback(() => setRefreshes((n) => n + 1), [])
  const start = useCallback(
    (next: Selected) => {
      setSelected(next)
      refreshList()
    },
    [refreshList],
  )
  return (
    <article className="import-export" aria-labelledby="import-export-title">
      <h1 id="import-export-title">Import and export</h1>
      <ImportForm onStarted={start} onUnauthorized={onUnauthorized} />
      {selected && <ImportReport key={selected.id} {...selected} userZone={userZone} onFinished={refreshList} onUnauthorized={onUnauthorized} />}
      <PastImports refreshes={refreshes} selectedId={selected?.id ?? null} onSelect={setSelected} onUnauthorized={onUnauthorized} userZone={userZone} />
      <ExportMenu onUnauthorized={onUnauthorized} />
      <CalendarFeed onUnauthorized={onUnauthorized} userZone={userZone} />
    </article>
  )
}
