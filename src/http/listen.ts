/** Starting a Node HTTP server on a port, and the origin clients reach it at. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Listens on `port` (0: any free port) and `host` (undefined: every interface); resolves with the
 * port taken and the origin to print (a wildcard host shows as `localhost`), rejects on a listen error.
 */
export function listen(listener: Server, port: number, host: string | undefined): Promise<{ port: number; origin: string }> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(port, host, () => {
      listener.off('error', reject)
      const { port } = listener.address() as AddressInfo
      const shown = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost'
      resolve({ port, origin: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}` })
    })
  })
}
