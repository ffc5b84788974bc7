// The control API on a unix socket as well (as Docker's and Serf's RPC): the socket file is mode 0600, so
// only the daemon's user can connect. Its connections are handed to the same HTTP server as TCP ones; the
// bearer token is still required, the Host check (against DNS rebinding, a browser concern) is not.
import { createServer, type Server, type Socket } from 'node:net'
import { chmodSync, lstatSync, unlinkSync } from 'node:fs'
import type { Server as HttpServer } from 'node:http'

const unixSockets = new WeakSet<object>()

/** true for a connection that came in over the unix socket */
export function viaUnixSocket (socket: object | undefined): boolean {
  return socket != null && unixSockets.has(socket)
}

function removeStale (path: string): void {
  let isSocket = false
  try { isSocket = lstatSync(path).isSocket() } catch { return }
  // never delete anything else a user may have put there
  if (!isSocket) throw new Error(`${path} exists and is not a socket`)
  unlinkSync(path)
}

/** Listen on `path` (0600) and pass its connections to `http`; resolves with the close function. */
export async function listenUnix (http: HttpServer, path: string): Promise<() => Promise<void>> {
  removeStale(path)
  const server: Server = createServer((socket: Socket) => {
    unixSockets.add(socket)
    http.emit('connection', socket)
  })
  // created with no permissions for group and others from the start, not chmod-ed after a window
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => { server.off('error', reject); resolve() })
    })
  } finally {
    process.umask(umask)
  }
  chmodSync(path, 0o600)
  return async () => {
    await new Promise<void>(resolve => server.close(() => resolve()))
    try { unlinkSync(path) } catch { /* already gone */ }
  }
}
