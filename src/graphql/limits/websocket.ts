/**
 * The document limits over graphql-ws. There, `onSubscribe` parses and
 * validates itself, and anything it throws closes the whole socket with 4500;
 * this answers the one operation with its errors instead (the socket stays open).
 */
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql'
import { createGraphQLError } from 'graphql-yoga'

interface ParseAndValidate {
  schema: GraphQLSchema
  parse(source: string): DocumentNode
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[]
}

/** Without `extensions.http`, which only means something to HTTP. */
function forSocket(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error
  const { http: _http, ...extensions } = error.extensions
  return createGraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions })
}

/**
 * Parses and validates `query` through the enveloped functions (so every limit applies):
 * the document, or the errors to answer the operation with. Errors other than GraphQL
 * errors are bugs and are thrown.
 */
export function parseAndValidateOperation(enveloped: ParseAndValidate, query: string): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode
  try {
    document = enveloped.parse(query)
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [forSocket(error)] }
    throw error
  }
  const errors = enveloped.validate(enveloped.schema, document)
  return errors.length > 0 ? { errors: errors.map(forSocket) } : { document }
}
