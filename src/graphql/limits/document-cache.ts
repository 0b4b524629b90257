/**
 * Yoga's parse/validate cache, bounded in bytes: its default keeps 1,024
 * documents for an hour keyed by their full text, whatever their size
 * (issue 10: distinct 20 MB documents filled a 512 MB heap). Documents reach
 * it only after the size check (before parsing) and the token limit (while
 * parsing); each entry is charged for its key and an estimate of its syntax tree.
 */
import type { DocumentNode } from 'graphql'
import type { YogaServerOptions } from 'graphql-yoga'
import { LRUCache } from 'lru-cache'
import { isLimitError } from './errors.ts'
import { HOUR_MS } from '../../time.ts'

/** Bytes charged per lexical token of a cached document: a Token, and its share of AST nodes and locations (measured ~150). */
const BYTES_PER_TOKEN = 200
/** Bytes charged for a cached parse error beside its key. */
const BYTES_PER_ERROR = 1024

type CacheOptions = Exclude<NonNullable<YogaServerOptions<object, object>['parserAndValidationCache']>, boolean>

/**
 * The estimated heap bytes of one cache entry: its key (the document text, 2 bytes a
 * character at worst) and its value (a parsed document, by its tokens, or a parse error).
 */
export function cacheEntryBytes(value: DocumentNode | Error, key: string): number {
  const tokens = (value as { tokenCount?: number }).tokenCount
  return 2 * key.length + (value instanceof Error ? BYTES_PER_ERROR : BYTES_PER_TOKEN * (tokens ?? key.length))
}

/**
 * Yoga's `parserAndValidationCache` option: documents and parse errors in LRU caches of
 * `maxBytes` each at most (1 h time to live, as Yoga's), validation results on the documents
 * (a WeakMap in Yoga). `maxBytes` 0 turns the cache off.
 */
export function createDocumentCache(maxBytes: number): CacheOptions | false {
  if (maxBytes <= 0) return false
  const cache = <V extends DocumentNode | Error>() =>
    new LRUCache<string, V>({ maxSize: maxBytes, sizeCalculation: (value, key) => Math.max(1, cacheEntryBytes(value, key)), ttl: HOUR_MS })
  const errors = cache<Error>()
  return {
    documentCache: cache<DocumentNode>(),
    // A document refused by a limit while parsing (tokens, nesting) is not kept: it did not pass them.
    errorCache: {
      get: (key: string) => errors.get(key),
      set: (key: string, error: Error) => void (isLimitError(error) ? undefined : errors.set(key, error)),
    },
    validationCache: true,
  }
}
