// @libp2p/tcp writes every chunk it is handed with its own socket.write(): under load that is one
// syscall per Noise frame, and that write path was the largest single cost in the 5-node profile
// (writeBuffer, 16% of CPU). Corking the socket until the event loop's check phase (setImmediate) lets
// Node send everything queued for that socket during one loop iteration with one writev().
//
// It also moves backpressure up: a corked socket reports "full" once a high-water mark's worth (16 KiB)
// is batched, so the streams above buffer instead of the kernel. gossipd's outbox watches exactly those
// stream buffers and hands what gossip cannot carry right now to the sync protocol, which moves it in
// batches (one signature check per batch, one transaction, no duplicate copies). Measured with
// `npm run bench -- --only throughput5`: 1,130 -> 2,250 msg/s to every subscriber on 5 nodes, about half
// of it then arriving by sync; p99 latency at 200 msg/s unchanged.
//
// It is opt-in per host because it is only safe with a sender that respects backpressure: raw gossipsub
// (the bench baseline) has none, and with corking its stream buffers overflowed under overload and it
// lost 17,305 of 31,950 messages (0 without). Uncorking at process.nextTick instead of setImmediate
// coalesced almost nothing and was slower (970 msg/s).
// The transport's connection class is not exported, so the wrapper goes on each connection object this host
// opens or accepts (its sendData), never on the class: other hosts in the process are not affected.
import type { Libp2p } from '@libp2p/interface'

interface CorkableSocket { cork: () => void, uncork: () => void, writableCorked: number, destroyed: boolean }
interface SocketConn { socket?: CorkableSocket, sendData?: (data: unknown) => unknown }

function cork (conn: SocketConn): void {
  const original = conn.sendData
  const socket = conn.socket
  if (typeof original !== 'function' || socket == null) return
  conn.sendData = function (this: SocketConn, data: unknown) {
    if (socket.writableCorked === 0 && !socket.destroyed) {
      socket.cork()
      setImmediate(() => socket.uncork())
    }
    return original.call(this, data)
  }
}

/** Cork TCP writes per event-loop iteration on every connection this host opens or accepts. */
export function corkTcpWrites (host: Libp2p): void {
  host.addEventListener('connection:open', evt => {
    cork((evt.detail as unknown as { maConn?: SocketConn }).maConn ?? {})
  })
}
