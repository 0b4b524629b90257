/**
 * A WebSocket emits 'error' when its client breaks the protocol below graphql-ws:
 * a frame over `maxPayload`, a text frame that is not UTF-8, a bad opcode. `ws`
 * has already closed the socket with the right code (1009, 1007, 1002);
 * graphql-ws's own listener then prints the error with its stack through
 * `console.error` as an "internal error". It is the client's doing: log it at debug.
 */
import type { WebSocketServer } from 'ws'
import type { Logger } from '../logger.ts'

/** Call right after graphql-ws's `useServer`, so this runs after its 'connection' handler. */
export function logSocketErrorsAsClientErrors(wsServer: WebSocketServer, logger: Logger): void {
  wsServer.on('connection', (socket) => {
    // graphql-ws's listener is the only one at this point; a socket without any would crash the process.
    socket.removeAllListeners('error')
    socket.on('error', (error: Error & { code?: string }) => {
      // `ws` has sent its close frame already (and ends the socket after it).
      logger.debug({ code: error.code, reason: error.message }, 'graphql-ws socket closed for a protocol error')
    })
  })
}
