/**
 * The HTTP request body limit: refused from its Content-Length before any of
 * it is read, or while it is read (chunked, or a Content-Length that lies),
 * so no more than the limit is ever buffered. 413 with BAD_REQUEST.
 * Yoga has the same check built in (`maxRequestBodySize`) with its own code;
 * this one runs first (user plugins precede it) and speaks our vocabulary.
 */
import type { Plugin } from 'graphql-yoga'
import { badRequest } from './errors.ts'

const CONTENT_LENGTH = /^\d+$/

/**
 * Yoga plugin refusing request bodies over `maxBytes` (413, BAD_REQUEST) before reading them whole.
 * `exempt` requests have limits of their own (the streamed multipart uploads: upload-plugin.ts).
 */
export function useRequestBodyLimit(maxBytes: number, exempt: (request: Request) => boolean = () => false): Plugin {
  const tooLarge = () => badRequest(`The request body is larger than ${maxBytes} bytes.`, 413)
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (exempt(request)) return
      const contentLength = request.headers.get('content-length')
      if (contentLength !== null && (!CONTENT_LENGTH.test(contentLength) || Number(contentLength) > maxBytes)) {
        throw CONTENT_LENGTH.test(contentLength) ? tooLarge() : badRequest('Content-Length is invalid.')
      }
      if (!requestParser || !request.body) return
      const parse = requestParser
      setRequestParser((original) => {
        let received = 0
        // As Yoga does: a native body stream needs the native TransformStream, a ponyfilled one the ponyfill.
        const Transform = original.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream
        const counted = original.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              received += chunk.byteLength
              // Erroring the stream stops the read: the parser rejects with this error, the rest is never buffered.
              if (received > maxBytes) controller.error(tooLarge())
              else controller.enqueue(chunk)
            },
          }),
        )
        return parse(new fetchAPI.Request(original.url, { method: original.method, headers: original.headers, signal: original.signal, body: counted, duplex: 'half' } as RequestInit))
      })
    },
  }
}
