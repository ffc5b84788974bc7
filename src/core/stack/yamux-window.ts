// JS yamux sends a window-update frame after every data frame it reads: one more Noise-encrypted frame
// and one more socket write per message, 13% of gossipd's CPU in the 5-node benchmark profile. Go and
// Rust yamux only grant more window once half of it has been used. halfWindowYamux() applies that rule:
// an established stream sends a window update only when its unused receive window has dropped to half or
// less. Handshake flags (SYN/ACK) and resuming a paused stream still go out at once, so no stream can
// stall: a sender that used the whole window always gets an update.
//
// The rule is installed per stream, on the streams of muxers this factory creates, never on the
// YamuxStream class: other libp2p nodes in the same process (the bench baseline, an application embedding
// gossipd) keep stock yamux. It relies on two @libp2p/yamux internals, YamuxMuxer._newStream (every
// inbound and outbound stream is made there) and YamuxStream's window fields; package.json pins the
// version, and test/stack-patches.test.ts counts window-update frames so an upgrade that moves them fails.
import { yamux, type YamuxMuxerInit } from '@libp2p/yamux'
import { StreamState, type YamuxStream } from '@libp2p/yamux/stream'
import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import { trackHeard } from './muxer-heard.js'
import { quietNoiseLengths } from './noise-length.js'

interface WindowFields { state: StreamState, recvWindow: number, recvWindowCapacity: number, sendWindowUpdate: () => void }
interface MuxerInternals { _newStream?: (...args: unknown[]) => YamuxStream }

function halfWindow (stream: WindowFields): void {
  const original = stream.sendWindowUpdate
  stream.sendWindowUpdate = function (this: WindowFields): void {
    if (this.state === StreamState.Established && this.recvWindowCapacity > this.recvWindow / 2) return
    original.call(this)
  }
}

function patchMuxer (muxer: StreamMuxer): void {
  const m = muxer as unknown as MuxerInternals
  const newStream = m._newStream
  // a yamux without _newStream runs stock (slower, still correct); the stack-patches test notices
  if (typeof newStream !== 'function') return
  m._newStream = function (this: unknown, ...args: unknown[]): YamuxStream {
    const stream = newStream.apply(this, args)
    halfWindow(stream as unknown as WindowFields)
    return stream
  }
}

/** yamux() whose streams send window updates only once half the receive window is used (and whose muxers
 * record when they last heard from the peer, for keep-alive: muxer-heard.ts; the encrypted connection it
 * is given reads Noise frame lengths without exceptions: noise-length.ts). */
export function halfWindowYamux (init?: YamuxMuxerInit): () => StreamMuxerFactory {
  const stock = yamux(init)
  return () => {
    const factory = stock()
    const create = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      quietNoiseLengths(maConn)
      const muxer = create(maConn)
      patchMuxer(muxer)
      trackHeard(muxer)
      return muxer
    }
    return factory
  }
}
