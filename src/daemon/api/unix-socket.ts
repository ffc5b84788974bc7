// The control API on a unix socket as well (as Docker's and Serf's RPC): the socket file is mode 0600, so
// only the daemon's user can connect. Its connections are handed to the same HTTP server as TCP ones; the
// bearer token is still required, the Host check (against DNS rebinding, a browser concern) is not.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { chmodSync, lstatSync, unlinkSync } from 'node:fs'
import type { Server as HttpServer } from 'node:http'

const unixSockets = new WeakSet<object>()

/** true for a connection that came in over the unix socket */
export function viaUnixSocket (socket: object | undefined): boolean {
  return socket != null && unixSockets.has(socket)
}

/** Something (another gossipd, most likely) is listening on the socket path: it is not ours to take. */
export class SocketInUseError extends Error {
  override name = 'SocketInUseError'
  readonly code = 'EADDRINUSE'
  constructor (readonly path: string) { super(`${path}: a running process listens on this socket`) }
}

/** how long a connect to an existing socket may take before we take it as alive (and leave it alone) */
const PROBE_MS = 1000

/** 'alive' if something accepts connections on `path`, 'stale' if nothing listens (ECONNREFUSED), 'gone' if it vanished */
async function probe (path: string): Promise<'alive' | 'stale' | 'gone'> {
  return await new Promise((resolve, reject) => {
    const s = connect(path)
    const timer = setTimeout(() => done('alive'), PROBE_MS)
    function done (r: 'alive' | 'stale' | 'gone' | Error): void {
      clearTimeout(timer)
      s.destroy()
      if (r instanceof Error) reject(r); else resolve(r)
    }
    s.once('connect', () => done('alive'))
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') done('stale')
      else if (err.code === 'ENOENT') done('gone')
      // a full backlog still means a listener
      else if (err.code === 'EAGAIN') done('alive')
      else done(new Error(`${path}: cannot tell whether a process listens on this socket (${err.code ?? err.message}); remove it by hand if none does`))
    })
  })
}

/** Remove a socket file nothing listens on (left by a killed daemon); refuse a live one or a non-socket. */
async function removeStale (path: string): Promise<void> {
  let isSocket = false
  try { isSocket = lstatSync(path).isSocket() } catch { return }
  // never delete anything else a user may have put there
  if (!isSocket) throw new Error(`${path} exists and is not a socket`)
  const state = await probe(path)
  if (state === 'alive') throw new SocketInUseError(path)
  if (state === 'stale') {
    try { unlinkSync(path) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
  }
}

/** Listen on `path` (0600) and pass its connections to `http`; resolves with the close function. */
export async function listenUnix (http: HttpServer, path: string): Promise<() => Promise<void>> {
  await removeStale(path)
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
