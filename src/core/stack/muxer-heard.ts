// When each connection last received anything from its peer, and since when data we sent has gone
// unanswered. Keep-alive uses them to skip pings on connections that are plainly alive (any frame proves
// the peer's muxer is running), to let only one side of an idle connection ping, and to ping soon only
// where data is waiting on the peer (an idle connection is left to the kernel's TCP keep-alive: see
// keepalive.ts). Tracked on the muxers gossipd's own yamux factory creates, by wrapping the instance's
// onData (the abstract muxer calls this.onData for every chunk the connection delivers) and sendFrame
// (every frame goes out through it; streams bind it when they are made, so it is wrapped first).
import type { Connection, StreamMuxer } from '@libp2p/interface'

/** yamux's frame type for stream data (opens, payloads, closes); pings and window updates are not data */
const YAMUX_DATA_FRAME = 0

interface Heard { at: number, unansweredSince?: number }
const heard = new WeakMap<object, Heard>()

export function trackHeard (muxer: StreamMuxer): void {
  const m = muxer as unknown as { onData?: (buf: unknown) => void, sendFrame?: (header: { type?: number }, data?: unknown) => unknown }
  const onData = m.onData
  if (typeof onData !== 'function') return
  const state: Heard = { at: Date.now() }
  heard.set(muxer, state)
  m.onData = function (this: unknown, buf: unknown): void {
    state.at = Date.now()
    state.unansweredSince = undefined
    onData.call(this, buf)
  }
  const sendFrame = m.sendFrame
  if (typeof sendFrame !== 'function') return
  m.sendFrame = function (this: unknown, header: { type?: number }, data?: unknown): unknown {
    if (header?.type === YAMUX_DATA_FRAME) state.unansweredSince ??= Date.now()
    return sendFrame.call(this, header, data)
  }
}

function stateOf (conn: Connection): Heard | undefined {
  const muxer = (conn as unknown as { muxer?: object }).muxer
  return muxer != null ? heard.get(muxer) : undefined
}

/** ms since the connection last received a frame, or undefined when its muxer is not tracked */
export function heardAgoMs (conn: Connection): number | undefined {
  const s = stateOf(conn)
  return s == null ? undefined : Date.now() - s.at
}

/** ms since the first data frame we sent after last hearing from the peer, or undefined if none is waiting (or untracked) */
export function unansweredForMs (conn: Connection): number | undefined {
  const s = stateOf(conn)
  return s?.unansweredSince == null ? undefined : Date.now() - s.unansweredSince
}
