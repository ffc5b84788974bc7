// Two nodes that dial each other at the same moment (both redialing a dropped link, or discovering each other
// at once on a loaded machine) each end up with two connections to the other, and libp2p keeps both for
// good: an idle one still costs a socket, a yamux session, keep-alive pings and a place under the connection
// bounds, on both nodes. The peer keeper closes such an extra connection once it has been idle a while.
// Only the side with the smaller peer id closes, so the two never pick different ones; a connection that
// carries a stream (gossipsub's, a sync pull) is never closed, whatever it is.
import type { Connection } from '@libp2p/interface'

/** an extra connection this young may be about to carry a stream (a dial that has just finished) */
export const DUPLICATE_IDLE_MS = 5_000

/**
 * The open connections to close: per peer with more than one, those without streams, open for at least
 * DUPLICATE_IDLE_MS, and only when this node's id is the smaller; one connection per peer always stays
 * (the one with the most streams, else the oldest).
 */
export function idleDuplicates (self: string, conns: Connection[], now: number): Connection[] {
  const byPeer = new Map<string, Connection[]>()
  for (const c of conns) {
    if (c.status !== 'open') continue
    const id = c.remotePeer.toString()
    if (self >= id) continue
    const list = byPeer.get(id)
    if (list == null) byPeer.set(id, [c])
    else list.push(c)
  }
  const extra: Connection[] = []
  for (const list of byPeer.values()) {
    if (list.length < 2) continue
    const keep = list.reduce((a, b) => b.streams.length > a.streams.length || (b.streams.length === a.streams.length && b.timeline.open < a.timeline.open) ? b : a)
    for (const c of list) {
      if (c !== keep && c.streams.length === 0 && now - c.timeline.open >= DUPLICATE_IDLE_MS) extra.push(c)
    }
  }
  return extra
}
