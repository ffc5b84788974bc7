// When each connection last received anything from its peer. Keep-alive uses it to skip pings on
// connections that are plainly alive (any frame proves the peer's muxer is running) and to let only one
// side of an idle connection ping. Tracked on the muxers gossipd's own yamux factory creates, by wrapping
// the instance's onData (the abstract muxer calls this.onData for every chunk the connection delivers).
import type { Connection, StreamMuxer } from '@libp2p/interface'

const heardAt = new WeakMap<object, number>()

export function trackHeard (muxer: StreamMuxer): void {
  const m = muxer as unknown as { onData?: (buf: unknown) => void }
  const onData = m.onData
  if (typeof onData !== 'function') return
  heardAt.set(muxer, Date.now())
  m.onData = function (this: unknown, buf: unknown): void {
    heardAt.set(muxer, Date.now())
    onData.call(this, buf)
  }
}

/** ms since the connection last received a frame, or undefined when its muxer is not tracked */
export function heardAgoMs (conn: Connection): number | undefined {
  const muxer = (conn as unknown as { muxer?: object }).muxer
  const t = muxer != null ? heardAt.get(muxer) : undefined
  return t == null ? undefined : Date.now() - t
}
