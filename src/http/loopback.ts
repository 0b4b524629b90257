/**
 * Is this request from the machine itself, to a name of the machine itself? The
 * development server hands the demo token only to such requests: the socket's
 * peer must be a loopback address (not someone on the network), and the Host
 * header a loopback name (not a public name a DNS-rebinding page points at 127.0.0.1).
 */
import { BlockList, isIP } from 'node:net'

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** 127.0.0.0/8 and ::1, in any spelling (BlockList also matches `::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  const family = isIP(address ?? '')
  return family !== 0 && LOOPBACK.check(address!, family === 4 ? 'ipv4' : 'ipv6')
}

/** `localhost`, `127.0.0.1` or `[::1]`, with or without a port (the Host header's form). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false
  const name = host.toLowerCase().replace(/:\d+$/, '')
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]'
}

/** Both of the above, for a Node request (`req.socket.remoteAddress`, `req.headers.host`). */
export function isLoopbackClient(request: { socket: { remoteAddress?: string | undefined }; headers: { host?: string | undefined } }): boolean {
  return isLoopbackAddress(request.socket.remoteAddress) && isLoopbackHost(request.headers.host)
}
