import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFakeClient, renderWithClient, type FakeClient } from '../../test/fake-client.tsx'
import { ApiError } from '../api/errors.ts'
import { matchRoute } from '../router.tsx'
import { ImportExportPage } from './ImportExportPage.tsx'
import { DOWNLOAD_PAGE_SIZE, ERRORS_PAGE_SIZE, POLL_INTERVAL_MS } from './ImportReport.tsx'

const ID = 'SW1wb3J0OjE='

function importNode(overrides: Record<string, unknown> = {}) {
  return {
    id: ID,
    status: 'SUCCEEDED',
    format: 'vcard',
    total: 120,
    done: 120,
    created: 100,
    updated: 5,
    unchanged: 3,
    rejected: 12,
    error: null,
    createdAt: '2026-11-30T08:00:00.000Z',
    startedAt: '2026-11-30T08:00:01.000Z',
    finishedAt: '2026-11-30T08:00:09.000Z',
    ...overrides,
  }
}

/** `rejected` rejected rows, paged by a cursor that is the index. */
function errorsPage(rejected: number, variables: Record<string, unknown>) {
  const start = variables.after ? Number(variables.after) : 0
  const end = Math.min(rejected, start + Number(variables.first ?? 10))
  const edges = Array.from({ length: end - start }, (_, i) => {
    const n = start + i + 1
    return { cursor: String(n), node: { position: n * 2, field: n % 2 ? 'EMAIL' : null, reason: `reason ${n}`, raw: `BEGIN:VCARD\r\nFN:Row ${n}\r\nEND:VCARD` } }
  })
  return { edges, pageInfo: { endCursor: end > start ? String(end) : null, hasNextPage: end < rejected } }
}

interface Setup {
  importAnswer?: (variables: Record<string, unknown>) => unknown
  imports?: unknown[]
  feed?: { createdAt: string } | null
  http?: typeof fetch
  userZone?: string
}

function setup({ importAnswer = (variables) => ({ import: { ...importNode(), errors: errorsPage(12, variables) } }), imports = [], feed = null, http, userZone }: Setup = {}) {
  let currentFeed = feed
  const onUnauthorized = vi.fn()
  const client = createFakeClient(
    {
      Import: importAnswer,
      Imports: () => ({ imports: { edges: imports.map((node, i) => ({ cursor: String(i), node })), pageInfo: { endCursor: null, hasNextPage: false } } }),
      CalendarFeed: () => ({ calendarFeed: currentFeed }),
      RotateCalendarFeed: () => {
        currentFeed = { createdAt: '2026-11-30T09:00:00.000Z' }
        return { rotateCalendarFeed: { url: 'http://app.test/feeds/s3cr3t.ics', createdAt: currentFeed.createdAt } }
      },
      RevokeCalendarFeed: () => {
        currentFeed = null
        return { revokeCalendarFeed: true }
      },
    },
    http ? { fetch: http } : {},
  )
  const user = userEvent.setup()
  renderWithClient(client, <ImportExportPage onUnauthorized={onUnauthorized} {...(userZone ? { userZone } : {})} />)
  return { client, user, onUnauthorized }
}

/** Counts the asks of an import handler; `reached(n)` resolves once it has answered n times. */
function askCounter() {
  const waiters: { n: number; resolve: () => void }[] = []
  const counter = {
    asked: 0,
    /** Call after computing the answer. */
    ask() {
      counter.asked++
      for (const waiter of waiters.filter((w) => w.n <= counter.asked)) waiter.resolve()
    },
    reached: (n: number) => (counter.asked >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  }
  return counter
}

const accepted = (id = ID) => vi.fn(async () => new Response(JSON.stringify({ id }), { status: 202, headers: { 'content-type': 'application/json' } }))
const progress = (client: FakeClient) => client.subscriptions.find((s) => s.operation === 'ImportProgress')!

let saved: { blob: Blob; fileName: string }[] = []
beforeEach(() => {
  saved = []
  const blobs = new Map<string, Blob>()
  URL.createObjectURL = vi.fn((blob: Blob) => {
    const url = `blob:test/${blobs.size}`
    blobs.set(url, blob)
    return url
  })
  URL.revokeObjectURL = vi.fn()
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    saved.push({ blob: blobs.get(this.href)!, fileName: this.download })
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('matchRoute', () => {
  it('/import is the Import and export page', () => {
    expect(matchRoute('/import')).toEqual({ page: 'import' })
    expect(matchRoute('/import/')).toEqual({ page: 'import' })
  })
})

describe('ImportExportPage: importing', () => {
  it('uploads a chosen file with the bearer token and its Content-Type, follows its progress, then shows the report and the rejected rows', async () => {
    const http = accepted()
    let finished = false
    const { client, user } = setup({
      http,
      importAnswer: (variables) => ({ import: finished ? { ...importNode(), errors: errorsPage(12, variables) } : { ...importNode({ status: 'QUEUED', done: 0, total: null, created: 0, updated: 0, unchanged: 0, rejected: 0, startedAt: null, finishedAt: null }), errors: errorsPage(0, variables) } }),
    })
    await user.upload(screen.getByLabelText('Choose a file to import'), new File(['BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n'], 'people.vcf', { type: 'text/vcard' }))

    const [url, init] = http.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://app.test/import/contacts')
    expect(new Headers(init.headers).get('authorization')).toBe('Bearer fake-token')
    expect(new Headers(init.headers).get('content-type')).toBe('text/vcard')
    expect((init.body as File).name).toBe('people.vcf')

    await waitFor(() => expect(progress(client)).toBeDefined())
    expect(progress(client).variables).toEqual({ id: ID })
    act(() => progress(client).send({ importProgress: importNode({ status: 'RUNNING', done: 50, total: 120, created: 40, updated: 0, unchanged: 0, rejected: 10, finishedAt: null }) }))
    expect(await screen.findByText('Importing: 50 of 120 rows…')).toHaveAttribute('role', 'status')
    expect(screen.getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('value', '50')
    expect(screen.getByRole('heading', { name: 'Import of people.vcf' })).toBeInTheDocument()

    finished = true
    act(() => {
      progress(client).send({ importProgress: importNode() })
      progress(client).end()
    })
    await screen.findByText('Finished.')
    const counts = within(screen.getByTestId('import-counts'))
    expect(counts.getByText('Created').nextSibling).toHaveTextContent('100')
    expect(counts.getByText('Updated').nextSibling).toHaveTextContent('5')
    expect(counts.getByText('Unchanged').nextSibling).toHaveTextContent('3')
    expect(counts.getByText('Rejected').nextSibling).toHaveTextContent('12')
    await waitFor(() => expect(screen.getAllByTestId('rejected-row')).toHaveLength(12))
    expect(within(screen.getAllByTestId('rejected-row')[0]!).getAllByRole('cell').map((cell) => cell.textContent)).toEqual(['2', 'EMAIL', 'reason 1'])
    expect(screen.queryByRole('progressbar')).toBeNull()
    // The list of past imports is asked again once the import is over.
    await waitFor(() => expect(client.requests.filter((r) => r.operation === 'Imports').length).toBeGreaterThanOrEqual(2))
    expect(client.requests.find((r) => r.operation === 'Imports')?.variables).toEqual({ first: 20 })
  })

  it('takes a dropped file, a calendar to /import/calendar', async () => {
    const http = accepted()
    const { client } = setup({ http })
    const file = new File(['BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'], 'work.ics')
    fireEvent.dragOver(screen.getByTestId('dropzone'), { dataTransfer: { files: [file], dropEffect: 'none' } })
    expect(screen.getByTestId('dropzone')).toHaveClass('dragging')
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [file] } })
    await waitFor(() => expect(progress(client)).toBeDefined())
    const [url, init] = http.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://app.test/import/calendar')
    expect(new Headers(init.headers).get('content-type')).toBe('text/calendar')
  })

  it('says why an upload was refused, and does not send a file it cannot import', async () => {
    const http = vi.fn(async () => new Response(JSON.stringify({ errors: [{ message: 'The file is larger than 100 MB.', extensions: { code: 'BAD_REQUEST' } }] }), { status: 413 }))
    const { client, user } = setup({ http })
    await user.upload(screen.getByLabelText('Choose a file to import'), new File(['x'], 'big.csv', { type: 'text/csv' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not import big.csv: The file is larger than 100 MB.')
    expect(client.subscriptions).toHaveLength(0)
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [new File(['x'], 'photo.jpg')] } })
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('photo.jpg is not a .vcf, .csv or .ics file.'))
    expect(http).toHaveBeenCalledTimes(1)
  })

  it('a rejected token on upload signs out', async () => {
    const http = vi.fn(async () => new Response(JSON.stringify({ errors: [{ message: 'Sign in.', extensions: { code: 'UNAUTHENTICATED' } }] }), { status: 401 }))
    const { user, onUnauthorized } = setup({ http })
    await user.upload(screen.getByLabelText('Choose a file to import'), new File(['x'], 'a.vcf'))
    await waitFor(() => expect(onUnauthorized).toHaveBeenCalled())
  })

  it('when the progress stream fails, asks import(id) every few seconds until it is finished', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    let status = 'RUNNING'
    const asks = askCounter()
    const { client, user } = setup({
      http: accepted(),
      importAnswer: (variables) => {
        const answer = { import: { ...importNode({ status, done: 10, rejected: 0 }), errors: errorsPage(0, variables) } }
        asks.ask()
        return answer
      },
    })
    await user.upload(screen.getByLabelText('Choose a file to import'), new File(['x'], 'a.csv'))
    await waitFor(() => expect(progress(client)).toBeDefined())
    await screen.findByText(/^Importing/)
    act(() => progress(client).fail(new ApiError('The connection closed (1006).', 'CLOSED')))
    await screen.findByText(/live progress lost/)
    await act(() => asks.reached(2))
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS))
    await act(() => asks.reached(3))
    status = 'SUCCEEDED'
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS))
    await screen.findByText('Finished.')
    expect(asks.asked).toBe(4)
    // Finished: no more asking.
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS * 3))
    expect(asks.asked).toBe(4)
  })

  it('when the stream ends before import(id) says finished, asks again until it does', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    let status = 'RUNNING'
    const asks = askCounter()
    const { client, user } = setup({
      http: accepted(),
      importAnswer: (variables) => {
        const answer = { import: { ...importNode({ status, rejected: 0 }), errors: errorsPage(0, variables) } }
        asks.ask()
        return answer
      },
    })
    await user.upload(screen.getByLabelText('Choose a file to import'), new File(['x'], 'a.vcf'))
    await waitFor(() => expect(progress(client)).toBeDefined())
    await screen.findByText(/^Importing/)
    act(() => progress(client).end())
    // The end asks once more; the import still runs, so the page keeps asking.
    await act(() => asks.reached(2))
    status = 'SUCCEEDED'
    act(() => void vi.advanceTimersByTime(POLL_INTERVAL_MS))
    await screen.findByText('Finished.')
    expect(asks.asked).toBe(3)
    expect(screen.queryByText(/live progress lost/)).toBeNull()
  })

  it('shows more rejected rows on demand, and downloads all of them as one CSV', async () => {
    const { user, client } = setup({
      imports: [importNode()],
      importAnswer: (variables) => ({ import: { ...importNode({ rejected: 1234 }), errors: errorsPage(1234, variables) } }),
    })
    await user.click(within((await screen.findAllByTestId('past-import'))[0]!).getByRole('button'))
    await waitFor(() => expect(screen.getAllByTestId('rejected-row')).toHaveLength(ERRORS_PAGE_SIZE))
    // A finished import is not followed.
    expect(client.subscriptions).toHaveLength(0)
    await user.click(screen.getByRole('button', { name: 'Show more rejected rows' }))
    await waitFor(() => expect(screen.getAllByTestId('rejected-row')).toHaveLength(2 * ERRORS_PAGE_SIZE))

    await user.click(screen.getByRole('button', { name: 'Download rejected rows' }))
    await screen.findByText('Rejected rows downloaded.')
    expect(saved).toHaveLength(1)
    expect(saved[0]!.fileName).toBe('rejected-rows-vcard.csv')
    const lines = (await saved[0]!.blob.text()).split('\r\n')
    expect(lines[0]).toBe('position,field,reason,raw')
    expect(lines[1]).toBe('2,EMAIL,reason 1,"BEGIN:VCARD')
    expect((await saved[0]!.blob.text()).match(/reason \d+/g)).toHaveLength(1234)
    const pages = client.requests.filter((r) => r.operation === 'Import' && r.variables.first === DOWNLOAD_PAGE_SIZE)
    expect(pages.map((r) => r.variables.after)).toEqual([null, ...Array.from({ length: 12 }, (_, i) => String((i + 1) * DOWNLOAD_PAGE_SIZE))])
    expect(DOWNLOAD_PAGE_SIZE).toBeLessThanOrEqual(100)
  })

  it('lists past imports with their outcome', async () => {
    setup({ imports: [importNode(), importNode({ id: 'SW1wb3J0OjI=', status: 'FAILED', format: 'csv', error: 'The server restarted.', created: 7, updated: 0, unchanged: 0, rejected: 0 })] })
    const items = await screen.findAllByTestId('past-import')
    expect(items[0]).toHaveTextContent('Done: 100 created, 5 updated, 3 unchanged, 12 rejected')
    expect(items[1]).toHaveTextContent('CSV')
    expect(items[1]).toHaveTextContent('Failed: 7 created')
  })
})

describe('ImportExportPage: exports', () => {
  it('downloads each export with the bearer header as a file', async () => {
    const http = vi.fn(async (url: string) => new Response(`data of ${new URL(url).pathname}`, { status: 200 }))
    const { user } = setup({ http: http as unknown as typeof fetch })
    await user.click(screen.getByRole('button', { name: 'Contacts as vCard (.vcf)' }))
    await screen.findByText('contacts.vcf downloaded.')
    await user.click(screen.getByRole('button', { name: 'Contacts as CSV (.csv)' }))
    await screen.findByText('contacts.csv downloaded.')
    await user.click(screen.getByRole('button', { name: 'Calendar as iCalendar (.ics)' }))
    await screen.findByText('calendar.ics downloaded.')
    expect(http.mock.calls.map(([url]) => url)).toEqual(['http://app.test/export/contacts.vcf', 'http://app.test/export/contacts.csv', 'http://app.test/export/calendar.ics'])
    expect(new Headers((http.mock.calls[0] as unknown as [string, RequestInit])[1].headers).get('authorization')).toBe('Bearer fake-token')
    expect(saved.map((s) => s.fileName)).toEqual(['contacts.vcf', 'contacts.csv', 'calendar.ics'])
    expect(await saved[2]!.blob.text()).toBe('data of /export/calendar.ics')
  })

  it('says why an export failed; a rejected token signs out', async () => {
    const http = vi.fn(async () => new Response(JSON.stringify({ errors: [{ message: 'Sign in.', extensions: { code: 'UNAUTHENTICATED' } }] }), { status: 401 }))
    const { user, onUnauthorized } = setup({ http })
    await user.click(screen.getByRole('button', { name: 'Contacts as CSV (.csv)' }))
    expect(await screen.findByText('Could not export contacts.csv: Sign in.')).toBeInTheDocument()
    expect(onUnauthorized).toHaveBeenCalled()
    expect(saved).toHaveLength(0)
  })
})

describe('ImportExportPage: calendar feed', () => {
  it('creates a feed URL, shows it once with a Copy button, rotates it, and turns it off', async () => {
    const { user, client } = setup()
    expect(await screen.findByText('No feed.')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Create feed URL' }))
    const url = await screen.findByLabelText(/Feed URL/)
    expect(url).toHaveValue('http://app.test/feeds/s3cr3t.ics')
    // Focus follows the new URL, ready to copy.
    await waitFor(() => expect(url).toHaveFocus())
    await screen.findByText(/A feed exists, made/)
    await user.click(screen.getByRole('button', { name: 'Copy' }))
    expect(await screen.findByText('Feed URL copied.')).toBeInTheDocument()
    expect(await navigator.clipboard.readText()).toBe('http://app.test/feeds/s3cr3t.ics')

    await user.click(screen.getByRole('button', { name: 'Rotate feed URL' }))
    expect(await screen.findByText('New feed URL made; the old one no longer works.')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Turn off feed' }))
    expect(await screen.findByText('Feed turned off: its URL no longer works.')).toBeInTheDocument()
    await screen.findByText('No feed.')
    expect(screen.queryByLabelText(/Feed URL/)).toBeNull()
    // The button that had focus went away: focus is on Create, not lost to <body>.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Create feed URL' })).toHaveFocus())
    expect(client.requests.filter((r) => r.operation === 'RotateCalendarFeed')).toHaveLength(2)
  })

  it('an existing feed shows when it was made (in the user zone, as every page), never its URL', async () => {
    setup({ feed: { createdAt: '2026-11-01T10:00:00.000Z' }, userZone: 'Asia/Tokyo' })
    expect(await screen.findByText('A feed exists, made Sun 1 Nov, 19:00.')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Rotate feed URL' })).toBeInTheDocument()
    expect(screen.queryByLabelText(/Feed URL/)).toBeNull()
  })
})
