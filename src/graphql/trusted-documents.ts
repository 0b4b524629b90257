/**
 * Trusted documents on the wire (issue 16, persisted operations): a request may send a document's id
 * instead of its text, as Apollo's `extensions: { persistedQuery: { version: 1, sha256Hash } }` or as
 * GraphQL over HTTP's `documentId: "sha256:<hex>"` (POST body, GET query string, graphql-ws payload);
 * the id resolves among the documents of the caller's OAuth app (src/oauth/trusted-documents.ts) and
 * nobody else's: a session, an API key or another app gets PERSISTED_QUERY_NOT_FOUND. An app set to
 * trusted documents only has any full document refused with PERSISTED_QUERY_ONLY.
 *
 * Over HTTP and SSE this is `@graphql-yoga/plugin-persisted-operations` (Yoga's `onParams`); graphql-ws
 * does not run Yoga's request hooks, so websocket.ts asks {@link TrustedDocuments.socketOperation} before
 * it parses, with the same rules. The resolved text then goes through every limit (size, tokens, depth,
 * cost), the budgets and the scopes like any document.
 */
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations'
import { GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql'
import { createGraphQLError, type Plugin } from 'graphql-yoga'
import type { Credential } from '../auth/authenticate.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { RequestLimits } from '../config.ts'
import { findTrustedDocument, isTrustedDocumentsOnly, normalizeDocumentId, type DocumentChecks } from '../oauth/trusted-documents.ts'
import { documentShapeRules, parseWithinLimits } from './limits/document-limits.ts'
import { isStackOverflow } from './limits/errors.ts'

const NOT_FOUND_MESSAGE =
  'PersistedQueryNotFound: no trusted document with this id for this credential (ids are SHA-256 hex of the registered text, and resolve only for the OAuth tokens of the app that registered them)'
const ONLY_MESSAGE = 'PersistedQueryOnly: this app runs its trusted documents only: send the document id (extensions.persistedQuery.sha256Hash or documentId), not its text'
const NO_QUERY_MESSAGE = 'Must provide a query string, or a trusted document id (extensions.persistedQuery.sha256Hash or documentId "sha256:<hex>").'

/** The refusals, with their HTTP status for Yoga (graphql-ws leaves `http` out). */
const errors = {
  notFound: (http: boolean) => createGraphQLError(NOT_FOUND_MESSAGE, { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', ...(http ? { http: { status: 400 } } : {}) } }),
  persistedOnly: (http: boolean) => createGraphQLError(ONLY_MESSAGE, { extensions: { code: 'PERSISTED_QUERY_ONLY', ...(http ? { http: { status: 403 } } : {}) } }),
  // A refused or missing credential: "refresh and retry" is the answer, as for a document's text.
  unauthenticated: (http: boolean) =>
    createGraphQLError('Sign in: a trusted document id runs only with an OAuth access token of the app that registered it (this request has no valid credential).', {
      extensions: { code: 'UNAUTHENTICATED', ...(http ? { http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } } : {}) },
    }),
  noQuery: (http: boolean) => createGraphQLError(NO_QUERY_MESSAGE, { extensions: { code: 'BAD_REQUEST', ...(http ? { http: { status: 400 } } : {}) } }),
}

/** What a request carries besides its text: Yoga's params (POST body, GET query string) or a graphql-ws payload. */
interface OperationParams {
  query?: unknown
  extensions?: unknown
  documentId?: unknown
}

/**
 * The document id a request sent, as sent (normalized later: a malformed one is simply not found), or
 * null when it sent none. `documentId` wins over `extensions.persistedQuery`; GET's `documentId` is read
 * from the URL (Yoga's GET parser keeps only the four classic parameters).
 */
export function sentDocumentId(params: OperationParams, request?: Request): string | null {
  let documentId = params.documentId
  if (documentId == null && request?.method === 'GET') documentId = new URL(request.url, 'http://localhost').searchParams.get('documentId')
  if (documentId != null) return String(documentId)
  const extensions = params.extensions
  if (extensions === null || typeof extensions !== 'object') return null
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery
  if (persisted === null || typeof persisted !== 'object') return null
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash
  return typeof hash === 'string' ? hash : ''
}

/** The trusted documents of the callers' apps, for both transports. */
export interface TrustedDocuments {
  /** The Yoga plugin (HTTP GET and POST, SSE). `credentialOfRequest` must be memoized per request (the context asks too). */
  plugin(credentialOfRequest: (request: Request) => Promise<Credential | null>): Plugin
  /** For graphql-ws, before parsing: the text to run, or the errors to answer the operation with. */
  socketOperation(credential: Credential | null, params: OperationParams): Promise<{ query: string } | { errors: GraphQLError[] }>
}

/** The trusted documents over `prisma`: each id lookup and each full document of an app token read the database once. */
export function createTrustedDocuments(prisma: PrismaClient): TrustedDocuments {
  /** The text of the id `key` for `credential`; null when it has none. @throws GraphQLError UNAUTHENTICATED without a credential. */
  const documentFor = async (credential: Credential | null, key: string, http: boolean): Promise<string | null> => {
    if (credential === null) throw errors.unauthenticated(http)
    const id = normalizeDocumentId(key)
    if (credential.kind !== 'oauth' || credential.clientId === undefined || id === null) return null
    return findTrustedDocument(prisma, credential.clientId, id)
  }
  const mayRunAnyDocument = async (credential: Credential | null): Promise<boolean> =>
    credential?.kind !== 'oauth' || credential.clientId === undefined || !(await isTrustedDocumentsOnly(prisma, credential.clientId))
  return {
    plugin: (credentialOfRequest) =>
      usePersistedOperations({
        extractPersistedOperationId: (params, request) => sentDocumentId(params as OperationParams, request),
        getPersistedOperation: async (key, request) => documentFor(await credentialOfRequest(request), key, true),
        allowArbitraryOperations: async (request) => mayRunAnyDocument(await credentialOfRequest(request)),
        customErrors: { notFound: () => errors.notFound(true), persistedQueryOnly: () => errors.persistedOnly(true), keyNotFound: () => errors.noQuery(true) },
      }) as Plugin,
    async socketOperation(credential, params) {
      if (typeof params.query === 'string' && params.query !== '') {
        return (await mayRunAnyDocument(credential)) ? { query: params.query } : { errors: [errors.persistedOnly(false)] }
      }
      const key = sentDocumentId(params)
      if (key === null) return { errors: [errors.noQuery(false)] }
      if (credential === null) return { errors: [errors.unauthenticated(false)] }
      const query = await documentFor(credential, key, false)
      return query === null ? { errors: [errors.notFound(false)] } : { query }
    },
  }
}

/**
 * The checks a document passes to be registered: the byte limit, then it parses within the token limit
 * and validates against `schema` with graphql-js's rules and the depth, alias and directive limits.
 * The message is graphql-js's first error.
 */
export function trustedDocumentChecks(schema: GraphQLSchema, limits: RequestLimits): DocumentChecks {
  const rules = [...specifiedRules, ...documentShapeRules(limits)]
  return {
    maxDocumentBytes: limits.maxDocumentBytes,
    check(text) {
      try {
        const problems = validate(schema, parseWithinLimits(text, undefined, limits.maxTokens), rules)
        return problems[0]?.message
      } catch (error) {
        if (error instanceof GraphQLError) return error.message
        if (isStackOverflow(error)) return 'The document is nested too deeply.'
        throw error
      }
    },
  }
}
