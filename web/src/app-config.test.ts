import { describe, expect, it } from 'vitest'
import { readAppConfig } from './app-config.ts'

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
