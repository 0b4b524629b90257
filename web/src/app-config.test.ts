import { describe, expect, it, vi } from 'vitest'
import { fetchAppConfig, readAppConfig } from './app-config.ts'

describe('readAppConfig', () => {
  it('reads the demo token the server put in the page', () => {
    document.head.innerHTML = '<script id="app-config" type="application/json">{"demoToken":"t0k"}</script>'
    expect(readAppConfig()).toEqual({ demoToken: 't0k' })
  })
  it('gives an empty config without the element or with bad JSON', () => {
    document.head.innerHTML = ''
    expect(readAppConfig()).toEqual({})
    document.head.innerHTML = '<script id="app-config" type="application/json">{oops</script>'
    expect(readAppConfig()).toEqual({})
  })
})

describe('fetchAppConfig', () => {
  it('reads the demo token from the page the server serves now, asking for HTML without the cache', async () => {
    const fetchImpl = vi.fn(async () => new Response('<!doctype html><html><head><script id="app-config" type="application/json">{"demoToken":"now"}</script></head></html>'))
    await expect(fetchAppConfig(fetchImpl as typeof fetch)).resolves.toEqual({ demoToken: 'now' })
    expect(fetchImpl).toHaveBeenCalledWith('/', { headers: { accept: 'text/html' }, cache: 'no-store' })
  })
  it('gives an empty config when the server is down or answers an error', async () => {
    await expect(fetchAppConfig((async () => { throw new TypeError('fetch failed') }) as typeof fetch)).resolves.toEqual({})
    await expect(fetchAppConfig((async () => new Response('x', { status: 503 })) as typeof fetch)).resolves.toEqual({})
  })
})
