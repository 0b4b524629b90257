import { describe, expect, it, vi } from 'vitest'
import { createApiClient, streamError, type ApiClient } from './client.ts'
import { ContactQuery, LogInteraction, MeQuery } from './documents.ts'
import { ApiError, apiErrorOf, toApiError } from './errors.ts'

/** `me` through the client's urql pipeline, its error thrown as an {@link ApiError}. */
async function requestMe(client: ApiClient) {
  const result = await client.urql.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise()
  if (result.error) throw apiErrorOf(result.error)
  return result.data!
}

describe('streamError', () => {
  it('reads a 4403 close as a rejected token', () => {
    const error = streamError({ code: 4403, reason: 'Forbidden' })
    expect(error).toMatchObject({ code: 'FORBIDDEN_TOKEN', unauthorized: true })
  })
  it('reads any other close as a dropped connection, to retry', () => {
    expect(streamError({ code: 1006, reason: '' })).toMatchObject({ code: 'CLOSED', unauthorized: false })
    expect(streamError(new Error('socket hang up'))).toMatchObject({ code: 'NETWORK', message: 'socket hang up' })
  })
  it('reads GraphQL errors by their extensions.code', () => {
    const error = streamError([{ message: 'Slow down', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 } }])
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 3, message: 'Slow down' })
    expect(toApiError([{ message: 'Who?', extensions: { code: 'UNAUTHENTICATED' } }]).unauthorized).toBe(true)
    expect(toApiError([{ message: 'odd' }]).code).toBe('UNKNOWN')
    expect(toApiError([{ message: 'new', extensions: { code: 'SOMETHING_NEW' } }]).code).toBe('UNKNOWN')
  })
})

describe('createApiClient().urql', () => {
  const respond = (body: unknown, status = 200) => vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }))

  it('POSTs the printed document with the bearer token and returns data', async () => {
    const fetch = respond({ data: { me: { id: 'VXNlcjox', email: 'a@b.c', name: null, timezone: 'UTC', groups: [] } } })
    const client = createApiClient({ token: 't0k', httpUrl: 'http://localhost/graphql', fetch })
    const data = await requestMe(client)
    expect(data.me.email).toBe('a@b.c')
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://localhost/graphql')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>).authorization).toBe('Bearer t0k')
    expect(JSON.parse(init.body as string).query).toContain('query Me')
    client.dispose()
  })

  it('throws the first error as an ApiError with its code', async () => {
    const client = createApiClient({ token: 'bad', httpUrl: 'http://localhost/graphql', fetch: respond({ errors: [{ message: 'Sign in', extensions: { code: 'UNAUTHENTICATED' } }] }, 401) })
    await expect(requestMe(client)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', unauthorized: true })
    client.dispose()
  })

  it('throws NETWORK when the server cannot be reached or answers without data', async () => {
    const down = createApiClient({ token: 't', httpUrl: 'http://localhost/graphql', fetch: vi.fn(async () => Promise.reject(new TypeError('fetch failed'))) })
    await expect(requestMe(down)).rejects.toBeInstanceOf(ApiError)
    await expect(requestMe(down)).rejects.toMatchObject({ code: 'NETWORK' })
    const broken = createApiClient({ token: 't', httpUrl: 'http://localhost/graphql', fetch: respond('<html>', 502) })
    await expect(requestMe(broken)).rejects.toMatchObject({ code: 'NETWORK', message: 'The server answered 502.' })
    down.dispose()
    broken.dispose()
  })

  it('answers a query again from the document cache at once and refreshes it behind; a mutation returning its type empties it', async () => {
    const contact = { __typename: 'Contact', id: 'Q29udGFjdDox', name: 'Aisha', email: null, phone: null, linkedIn: null, instagram: null, xHandle: null, location: null, timezone: null, customNotes: null, lastContactDate: null, nextDueAt: '2026-12-01T00:00:00.000Z', frequencyPreference: null, dunbarCircle: 'CLOSE', archived: false, tags: [], groups: [] }
    const fetch = vi.fn(async (_url: unknown, init?: RequestInit) => {
      const { operationName } = JSON.parse(String(init?.body)) as { operationName: string }
      const data = operationName === 'Contact' ? { node: contact } : { logInteraction: { ...contact, lastContactDate: '2026-11-25T09:00:00.000Z' } }
      return new Response(JSON.stringify({ data }), { headers: { 'content-type': 'application/json' } })
    })
    const client = createApiClient({ token: 't', httpUrl: 'http://localhost/graphql', fetch })
    const ask = () => client.urql.query(ContactQuery, { id: contact.id }).toPromise()
    expect((await ask()).data?.node).toMatchObject({ name: 'Aisha' })
    // Asked again, the cached answer comes at once, marked stale, then the refreshed one.
    const answers: { name?: string; stale: boolean }[] = []
    const { unsubscribe } = client.urql.query(ContactQuery, { id: contact.id }).subscribe((result) => {
      answers.push({ name: result.data?.node?.__typename === 'Contact' ? result.data.node.name : undefined, stale: result.stale })
    })
    await vi.waitFor(() => expect(answers).toEqual([{ name: 'Aisha', stale: true }, { name: 'Aisha', stale: false }]))
    unsubscribe()
    expect(fetch).toHaveBeenCalledTimes(2)
    await client.urql.mutation(LogInteraction, { contactId: contact.id }).toPromise()
    // The mutation dropped the cached Contact: the next answer comes from the network.
    expect((await ask()).data?.node).toMatchObject({ name: 'Aisha' })
    expect(fetch).toHaveBeenCalledTimes(4)
    client.dispose()
  })
})

describe('createApiClient().http', () => {
  it('resolves the path against the server, adds the bearer token and keeps the caller’s headers and body', async () => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response(null, { status: 202 }))
    const client = createApiClient({ token: 't0k', httpUrl: 'https://app.example/graphql', fetch: fetch as unknown as typeof globalThis.fetch })
    const body = new Blob(['BEGIN:VCALENDAR'])
    expect((await client.http('/import/calendar?format=ics', { method: 'POST', headers: { 'content-type': 'text/calendar' }, body })).status).toBe(202)
    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe('https://app.example/import/calendar?format=ics')
    const headers = new Headers(init?.headers)
    expect(headers.get('authorization')).toBe('Bearer t0k')
    expect(headers.get('content-type')).toBe('text/calendar')
    expect(init?.body).toBe(body)
    client.dispose()
  })
})
