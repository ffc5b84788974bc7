// @libp2p/tcp writes every chunk it is handed with its own socket.write(): under load that is one
// syscall per Noise frame, and that write path was the largest single cost in the 5-node profile
// (writeBuffer, 16% of CPU). Corking the socket until the event loop's check phase (setImmediate) lets
// Node send everything queued for that socket during one loop iteration (every message handled in the
// poll phase, and what gossipsub forwards for it) with one writev(). Same bytes, fewer and larger
// writes and reads on both ends; the delay is at most the rest of the current loop iteration.
// Measured (npm run bench -- --only throughput5): 1,130 -> 2,250 msg/s on 5 nodes. Uncorking at
// process.nextTick instead coalesced almost nothing and was slower (970 msg/s).
// The transport's connection class is not exported, so its prototype is patched at the first connection.
import type { Libp2p } from '@libp2p/interface'

interface SocketConn { socket?: { cork: () => void, uncork: () => void, writableCorked: number, destroyed: boolean }, sendData: (data: unknown) => unknown }

const patched = new WeakSet<object>()

function patch (proto: SocketConn): void {
  if (patched.has(proto) || typeof proto.sendData !== 'function') return
  patched.add(proto)
  const original = proto.sendData
  proto.sendData = function (this: SocketConn, data: unknown) {
    const socket = this.socket
    if (socket != null && socket.writableCorked === 0 && !socket.destroyed) {
      socket.cork()
      setImmediate(() => socket.uncork())
    }
    return original.call(this, data)
  }
}

/** Cork TCP writes per tick on every connection of this host (and, through the shared class, of all hosts). */
export function corkTcpWrites (host: Libp2p): void {
  host.addEventListener('connection:open', evt => {
    const maConn = (evt.detail as unknown as { maConn?: SocketConn }).maConn
    if (maConn?.socket != null) patch(Object.getPrototypeOf(maConn) as SocketConn)
  })
}
