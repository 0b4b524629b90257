/**
 * Every limit on what a client sends, for Yoga (HTTP GET/POST and SSE) and for
 * graphql-ws (through `getEnveloped`: the envelop hooks run there, Yoga's
 * request hooks do not; the body limit is the socket's `maxPayload` instead).
 * The variables and their defaults: `RequestLimits` in src/config.ts.
 */
import type { Plugin, YogaServerOptions } from 'graphql-yoga'
import type { RequestLimits } from '../../config.ts'
import { useRequestBodyLimit } from './body-size.ts'
import { useJsonParamErrors } from './request-params.ts'
import { useDocumentLimits } from './document-limits.ts'
import { useQueryCost } from './query-cost.ts'
import { useOperationLimit } from './operation-limit.ts'
import { createDocumentCache } from './document-cache.ts'

export { createDocumentCache } from './document-cache.ts'
export { isStackOverflow } from './errors.ts'

/**
 * The Yoga plugins of the limits, in the order they apply: parameters that must be JSON, body, document
 * (size, tokens, depth, aliases, directives), cost, operations at once per user.
 */
export function useRequestLimits(limits: RequestLimits, bodyLimitExempt?: (request: Request) => boolean): Plugin[] {
  return [
    useJsonParamErrors(),
    useRequestBodyLimit(limits.maxRequestBodyBytes, bodyLimitExempt),
    useDocumentLimits(limits),
    useQueryCost(limits.maxQueryCost),
    useOperationLimit(limits.maxOperationsPerUser),
  ]
}

/** The part of Yoga's options the limits set: their plugins, the bounded cache, Yoga's own body limit off (ours replaces it). */
export interface YogaLimitOptions {
  plugins: Plugin[]
  parserAndValidationCache: YogaServerOptions<object, object>['parserAndValidationCache']
  maxRequestBodySize: YogaServerOptions<object, object>['maxRequestBodySize']
}

/**
 * Yoga's options for `limits`; `enabled: false` gives Yoga's defaults instead, the server as it
 * was before the limits (for bench/limits.ts, which compares both in one run). `bodyLimitExempt`
 * requests skip the body limit (streamed uploads, bounded by IMPORT_MAX_BYTES instead).
 */
export function yogaLimitOptions(limits: RequestLimits, enabled = true, bodyLimitExempt?: (request: Request) => boolean): YogaLimitOptions {
  if (!enabled) return { plugins: [], parserAndValidationCache: true, maxRequestBodySize: undefined }
  return { plugins: useRequestLimits(limits, bodyLimitExempt), parserAndValidationCache: createDocumentCache(limits.documentCacheBytes), maxRequestBodySize: false }
}
