/**
 * Request parameters that are not JSON where JSON is due. Yoga's GET parser (and its form parser) reads
 * `variables` and `extensions` with a bare `JSON.parse`, so `?variables={bad` rejected with a SyntaxError
 * that reached the client as a masked INTERNAL_SERVER_ERROR (logged as a server fault). Here any parser's
 * SyntaxError is the client's: 400 BAD_REQUEST, as GraphQL over HTTP asks for a malformed request.
 */
import type { Plugin } from 'graphql-yoga'
import { badRequest } from './errors.ts'

/** Yoga plugin answering a request whose parameters do not parse as JSON with 400 BAD_REQUEST. */
export function useJsonParamErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return
      const parse = requestParser
      setRequestParser(async (request) => {
        try {
          return await parse(request)
        } catch (error) {
          if (error instanceof SyntaxError) throw badRequest('A request parameter that must be JSON (variables, extensions) is not valid JSON.', 400)
          throw error
        }
      })
    },
  }
}
