import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { authorizedFetch } from '../api/client.ts'
import { ApiError } from '../api/errors.ts'
import { csvField, errorOfResponse, importTargetOf, REJECTED_ROWS_HEADER, rejectedRowsCsv, uploadImport } from './files.ts'

const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('importTargetOf', () => {
  it.each([
    ['contacts.vcf', 'text/vcard', '/import/contacts'],
    ['Google Contacts.CSV', 'text/csv', '/import/contacts'],
    ['work.calendar.ics', 'text/calendar', '/import/calendar'],
  ])('%s goes to %s at %s', (name, contentType, path) => {
    expect(importTargetOf(name)).toMatchObject({ contentType, path })
  })

  it.each(['contacts', 'photo.jpg', 'contacts.vcf.txt', '.', ''])('%j is none of them', (name) => {
    expect(importTargetOf(name)).toBeNull()
  })
})

describe('uploadImport', () => {
  it('POSTs the file itself as the body, with the bearer token and the Content-Type of its name, and resolves with the id of the 202', async () => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => json({ id: 'SW1wb3J0OjE=' }, 202))
    const file = new File(['BEGIN:VCARD\r\nEND:VCARD\r\n'], 'people.vcf')
    const { id } = await uploadImport(authorizedFetch('t0k', 'http://app.test/graphql', fetch as typeof globalThis.fetch), file)
    expect(id).toBe('SW1wb3J0OjE=')
    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe('http://app.test/import/contacts')
    expect(init?.method).toBe('POST')
    expect(init?.body).toBe(file)
    const headers = new Headers(init?.headers)
    expect(headers.get('authorization')).toBe('Bearer t0k')
    expect(headers.get('content-type')).toBe('text/vcard')
  })

  it('does not send a file of another kind', async () => {
    const fetch = vi.fn()
    await expect(uploadImport(authorizedFetch('t', 'http://app.test/graphql', fetch), new File(['x'], 'notes.txt'))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
    expect(fetch).not.toHaveBeenCalled()
  })

  it.each([
    [413, { errors: [{ message: 'The file is larger than 100 MB.', extensions: { code: 'BAD_REQUEST' } }] }, 'BAD_REQUEST', 'The file is larger than 100 MB.'],
    [415, { errors: [{ message: 'This is not a vCard file.', extensions: { code: 'BAD_USER_INPUT' } }] }, 'BAD_USER_INPUT', 'This is not a vCard file.'],
    [401, { errors: [{ message: 'Sign in.', extensions: { code: 'UNAUTHENTICATED' } }] }, 'UNAUTHENTICATED', 'Sign in.'],
  ])('a %i refusal is the ApiError of its body', async (status, body, code, message) => {
    const http = authorizedFetch('t', 'http://app.test/graphql', (async () => json(body, status)) as typeof fetch)
    const error = await uploadImport(http, new File(['x'], 'a.csv')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code, message })
  })

  it('no answer is NETWORK; a 202 without an id is UNKNOWN', async () => {
    const down = authorizedFetch('t', 'http://app.test/graphql', (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch)
    await expect(uploadImport(down, new File(['x'], 'a.ics'))).rejects.toMatchObject({ code: 'NETWORK' })
    const odd = authorizedFetch('t', 'http://app.test/graphql', (async () => json({}, 202)) as typeof fetch)
    await expect(uploadImport(odd, new File(['x'], 'a.ics'))).rejects.toMatchObject({ code: 'UNKNOWN' })
  })
})

describe('errorOfResponse', () => {
  it('falls back on the status when the body is not the error JSON', async () => {
    expect(await errorOfResponse(new Response('<html>Too large</html>', { status: 413 }))).toMatchObject({ code: 'BAD_REQUEST' })
    expect(await errorOfResponse(new Response('', { status: 401 }))).toMatchObject({ code: 'UNAUTHENTICATED', unauthorized: true })
    expect(await errorOfResponse(new Response('{"errors":[]}', { status: 502 }))).toMatchObject({ code: 'UNKNOWN', message: 'The server answered 502.' })
  })
})

describe('rejectedRowsCsv', () => {
  it('writes position, field, reason and the raw row, quoted where needed', () => {
    const csv = rejectedRowsCsv([
      { position: 3, field: 'EMAIL', reason: 'not an e-mail address', raw: 'Ann,"ann at example"\nsecond line' },
      { position: 9, field: null, reason: 'no name', raw: null },
    ])
    expect(csv).toBe('3,EMAIL,not an e-mail address,"Ann,""ann at example""\nsecond line"\r\n9,,no name,\r\n')
  })

  it('neutralises what a spreadsheet would run', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvField('+1 555')).toBe("'+1 555")
  })

  it('property: any rows read back by a CSV parser as the same fields (formula prefixes aside)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !/^[=+\-@\t\r]/.test(s))
    const row = fc.record({ position: fc.nat(), field: fc.option(text), reason: text, raw: fc.option(text) })
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
        const records = parse(REJECTED_ROWS_HEADER + rejectedRowsCsv(rows), { columns: true, relax_column_count: false }) as Record<string, string>[]
        expect(records).toEqual(rows.map((r) => ({ position: String(r.position), field: r.field ?? '', reason: r.reason, raw: r.raw ?? '' })))
      }),
    )
  })
})
