/**
 * Every limit on what a client sends, for Yoga (HTTP GET/POST and SSE) and for
 * graphql-ws (through `getEnveloped`: the envelop hooks run there, Yoga's
 * request hooks do not; the body limit is the socket's `maxPayload` instead).
 * Defaults and measurements: /work/wt/notes/limits.md; variables: src/config.ts.
 */
import type { Plugin } from 'graphql-yoga'
import type { RequestLimits } from '../../config.ts'
import { useRequestBodyLimit } from './body-size.ts'
import { useDocumentLimits } from './document-limits.ts'
import { useQueryCost } from './query-cost.ts'

export { createDocumentCache } from './document-cache.ts'
export { isStackOverflow } from './errors.ts'

/** The Yoga plugins of the limits, in the order they apply: body, document (size, tokens, depth, aliases, directives), cost. */
export function useRequestLimits(limits: RequestLimits): Plugin[] {
  return [useRequestBodyLimit(limits.maxRequestBodyBytes), useDocumentLimits(limits), useQueryCost(limits.maxQueryCost)]
}
