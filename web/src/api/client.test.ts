import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApiClient, streamError, toApiError } from './client.ts'
import { MeQuery } from './documents.ts'

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
  })
})

describe('createApiClient().request', () => {
  const respond = (body: unknown, status = 200) => vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }))

  it('POSTs the printed document with the bearer token and returns data', async () => {
    const fetch = respond({ data: { me: { id: 'VXNlcjox', email: 'a@b.c', name: null, timezone: 'UTC', groups: [] } } })
    const client = createApiClient({ token: 't0k', httpUrl: 'http://localhost/graphql', fetch })
    const data = await client.request(MeQuery, {})
    expect(data.me.email).toBe('a@b.c')
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://localhost/graphql')
    expect((init.headers as Record<string, string>).authorization).toBe('Bearer t0k')
    expect(JSON.parse(init.body as string).query).toContain('query Me')
    client.dispose()
  })

  it('throws the first error as an ApiError with its code', async () => {
    const client = createApiClient({ token: 'bad', httpUrl: 'http://localhost/graphql', fetch: respond({ errors: [{ message: 'Sign in', extensions: { code: 'UNAUTHENTICATED' } }] }, 401) })
    await expect(client.request(MeQuery, {})).rejects.toMatchObject({ code: 'UNAUTHENTICATED', unauthorized: true })
    client.dispose()
  })

  it('throws NETWORK when the server cannot be reached or answers without data', async () => {
    const down = createApiClient({ token: 't', httpUrl: 'http://localhost/graphql', fetch: vi.fn(async () => Promise.reject(new TypeError('fetch failed'))) })
    await expect(down.request(MeQuery, {})).rejects.toBeInstanceOf(ApiError)
    await expect(down.request(MeQuery, {})).rejects.toMatchObject({ code: 'NETWORK' })
    const broken = createApiClient({ token: 't', httpUrl: 'http://localhost/graphql', fetch: respond('<html>', 502) })
    await expect(broken.request(MeQuery, {})).rejects.toMatchObject({ code: 'NETWORK', message: 'The server answered 502.' })
    down.dispose()
    broken.dispose()
  })
})
