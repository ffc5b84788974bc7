// gossipsub keeps two one-second timers of its own: the heartbeat (phase set by when it started) and the
// peer-score refresh (a setInterval started a moment later). Each is a separate wake-up of an idle
// process (tick.ts says why that is the cost here). On the hosts gossipd builds, the heartbeat is moved
// onto whole seconds of the wall clock, where the node's own periodic jobs run, and the score refresh
// runs right after each heartbeat (its decay interval is the heartbeat interval, 1 s) instead of on its
// own timer. Reaches into gossipsub's internals (versions pinned; test/periodic-ticks.test.ts).
import type { GossipSub } from '@libp2p/gossipsub'

interface Internals {
  status: { code: number, hearbeatStartMs?: number }
  opts: { heartbeatInterval: number }
  score: { _backgroundInterval?: NodeJS.Timeout, background: () => void, params: { decayInterval: number } }
}

/** align the heartbeat to whole seconds and drive score upkeep from it; returns an undo for stop */
export function alignGossipClock (pubsub: GossipSub): () => void {
  const g = pubsub as unknown as Internals
  const period = g.opts.heartbeatInterval
  // the next heartbeat is scheduled from this origin (drift-corrected), so a whole-tick origin puts every
  // later heartbeat on a whole tick
  if (g.status.hearbeatStartMs != null) g.status.hearbeatStartMs = Math.ceil(g.status.hearbeatStartMs / period) * period
  if (g.score._backgroundInterval == null || g.score.params.decayInterval !== period) return () => {}
  clearInterval(g.score._backgroundInterval)
  // a timer that never fires stands in for the interval, so gossipsub's own stop() still finds one to clear
  const standIn = setTimeout(() => {}, 2 ** 31 - 1)
  standIn.unref()
  g.score._backgroundInterval = standIn
  const refresh = (): void => { g.score.background() }
  pubsub.addEventListener('gossipsub:heartbeat', refresh)
  return () => {
    pubsub.removeEventListener('gossipsub:heartbeat', refresh)
    // a libp2p node that outlives the gossipd node (given to it) gets its own score timer back; if
    // gossipsub stopped meanwhile, its stop() already cleared the stand-in and there is nothing to restore
    if (g.score._backgroundInterval !== standIn) return
    clearTimeout(standIn)
    g.score._backgroundInterval = setInterval(() => { g.score.background() }, g.score.params.decayInterval)
  }
}
