import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { cacheEntryBytes, createDocumentCache } from '../../src/graphql/limits/document-cache.ts'
import { parseWithinLimits } from '../../src/graphql/limits/document-limits.ts'

describe('the document cache', () => {
  it('keeps no more than its bytes, charging each document for its text and tokens', () => {
    const options = createDocumentCache(1024 * 1024)
    if (!options) throw new Error('expected cache options')
    const cache = options.documentCache as unknown as { set(key: string, value: unknown): void; calculatedSize: number; size: number }
    for (let n = 0; n < 200; n++) {
      const text = `{ __typename } # ${n} ${'x'.repeat(64 * 1024)}`
      cache.set(text, parse(text))
    }
    expect(cache.calculatedSize).toBeLessThanOrEqual(1024 * 1024)
    expect(cache.size).toBe(Math.floor((1024 * 1024) / cacheEntryBytes(parse('{ __typename }'), `{ __typename } # 100 ${'x'.repeat(64 * 1024)}`)))
  })

  it('charges a dense document for its tokens more than for its text', () => {
    const text = `{ ${'__typename '.repeat(500)}}`
    expect(cacheEntryBytes(parse(text), text)).toBeGreaterThan(100 * text.length / 11)
  })

  it('does not keep a document refused by a limit while parsing', () => {
    const options = createDocumentCache(1024 * 1024)
    if (!options) throw new Error('expected cache options')
    const text = `{ ${'__typename '.repeat(20)}}`
    let error: unknown
    try {
      parseWithinLimits(text, undefined, 10)
    } catch (thrown) {
      error = thrown
    }
    expect(error).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'tokens' } })
    options.errorCache!.set(text, error as Error)
    expect(options.errorCache!.get(text)).toBeUndefined()
    // Other parse errors (syntax) are kept, bounded like documents.
    options.errorCache!.set('{', new Error('Syntax Error'))
    expect(options.errorCache!.get('{')).toBeInstanceOf(Error)
  })

  it('is off with 0 bytes', () => {
    expect(createDocumentCache(0)).toBe(false)
  })
})
