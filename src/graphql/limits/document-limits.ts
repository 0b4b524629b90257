/**
 * Limits on the GraphQL document, before it is parsed or executed:
 * its size in bytes (before parsing: nothing is parsed or cached past it),
 * its tokens (counted by graphql-js's parser as it lexes), its depth, aliases
 * and directives (graphql-armor's validation rules, reporting instead of
 * throwing so that graphql-ws answers with an error instead of closing the
 * socket with 4500), and recursion: a document nested deeper than the stack
 * allows gives QUERY_TOO_COMPLEX instead of an INTERNAL_SERVER_ERROR.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import { GraphQLError, parse, type ParseOptions, type Source, type ValidationContext, type ValidationRule } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import type { RequestLimits } from '../../config.ts'
import { badRequest, isStackOverflow, queryTooComplex } from './errors.ts'

/** graphql-js's message when `maxTokens` is reached. */
const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more th/

/** True when `text` is longer than `maxBytes` in UTF-8; O(1) unless the length is ambiguous. */
export function exceedsBytes(text: string, maxBytes: number): boolean {
  // A UTF-16 unit is 1 to 3 UTF-8 bytes: count only when the length alone does not decide.
  if (text.length > maxBytes) return true
  if (text.length * 3 <= maxBytes) return false
  return Buffer.byteLength(text, 'utf8') > maxBytes
}

/** Parses like graphql-js with at most `maxTokens` tokens; over it, or nested past the stack, QUERY_TOO_COMPLEX. */
export function parseWithinLimits(source: string | Source, options: ParseOptions | undefined, maxTokens: number) {
  try {
    return parse(source, { ...options, maxTokens })
  } catch (error) {
    if (error instanceof GraphQLError && TOKEN_LIMIT_MESSAGE.test(error.message)) {
      throw queryTooComplex(`The document has more than ${maxTokens} tokens.`, { limit: 'tokens', max: maxTokens })
    }
    if (isStackOverflow(error)) throw queryTooComplex('The document is nested too deeply.', { limit: 'nesting' })
    throw error
  }
}

const isValidationAborted = (error: GraphQLError) => error.message === 'Validation aborted.' && !error.locations
const tooMuchWork = () => queryTooComplex('The document takes too much work to validate.', { limit: 'validation' })

/** graphql-armor's rules (depth, aliases, directives), each reporting a QUERY_TOO_COMPLEX validation error instead of throwing. */
export function documentShapeRules(limits: RequestLimits): ValidationRule[] {
  const report = (limit: string, max: number) => ({
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(queryTooComplex(error.message.replace(/^Syntax Error: /, ''), { limit, max })),
    ],
  })
  return [
    // Introspection is left to graphql-js's MaxIntrospectionDepthRule (in its specified rules since 16.9).
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, ...report('depth', limits.maxDepth) }) as ValidationRule,
    // Aliases of __typename count too (armor leaves them out by default): 100,000 of them stalled the server.
    maxAliasesRule({ n: limits.maxAliases, allowList: [], ...report('aliases', limits.maxAliases) }) as ValidationRule,
    maxDirectivesRule({ n: limits.maxDirectives, ...report('directives', limits.maxDirectives) }) as ValidationRule,
  ]
}

/**
 * Envelop plugin for the document limits; runs on every transport that goes through
 * `getEnveloped` (HTTP GET and POST, SSE, graphql-ws). The size check throws from
 * the hook itself, before Yoga's cache sees the text.
 */
export function useDocumentLimits(limits: RequestLimits): Plugin {
  const rules = documentShapeRules(limits)
  const parseFn = (source: string | Source, options?: ParseOptions) => parseWithinLimits(source, options, limits.maxTokens)
  return {
    onParse({ params, setParseFn }) {
      const text = typeof params.source === 'string' ? params.source : params.source.body
      if (exceedsBytes(text, limits.maxDocumentBytes)) {
        throw badRequest(`The document is larger than ${limits.maxDocumentBytes} bytes.`, 413)
      }
      setParseFn(parseFn)
    },
    onValidate({ addValidationRule, validateFn, setValidationFn }) {
      for (const rule of rules) addValidationRule(rule)
      setValidationFn((...args) => {
        try {
          const errors = validateFn(...args)
          // graphql-js stops comparing fields past a work budget (quadratic in repeated fields) with this error.
          return errors.some(isValidationAborted) ? errors.map((error: GraphQLError) => (isValidationAborted(error) ? tooMuchWork() : error)) : errors
        } catch (error) {
          // Some of graphql-js's rules (and armor's counters) recurse over the document.
          if (isStackOverflow(error)) return [queryTooComplex('The document is nested too deeply.', { limit: 'nesting' })]
          throw error
        }
      })
    },
  }
}
