// JS yamux sends a window-update frame after every data frame it reads: one more Noise-encrypted frame
// and one more socket write per message, 13% of gossipd's CPU in the 5-node benchmark profile. Go and
// Rust yamux only grant more window once half of it has been used. This applies that rule to
// @libp2p/yamux's streams (its ./stream export): an established stream sends a window update only when
// its unused receive window has dropped to half or less. Handshake flags (SYN/ACK) and resuming a paused
// stream still go out at once, so no stream can stall: a sender that used the whole window always gets
// an update. Imported for its side effect by libp2p.ts, the one module that assembles the stack.
import { YamuxStream, StreamState } from '@libp2p/yamux/stream'

interface WindowFields { state: StreamState, recvWindow: number, recvWindowCapacity: number, sendWindowUpdate: () => void }

const proto = YamuxStream.prototype as unknown as WindowFields & { __gossipdHalfWindow?: boolean }
if (proto.__gossipdHalfWindow !== true && typeof proto.sendWindowUpdate === 'function') {
  const original = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowFields): void {
    if (this.state === StreamState.Established && this.recvWindowCapacity > this.recvWindow / 2) return
    original.call(this)
  }
  proto.__gossipdHalfWindow = true
}
