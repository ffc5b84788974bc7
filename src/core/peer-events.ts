// libp2p's peer events as node events and sync triggers: a new connection and a peer that just joined
// one of our topics may each hold what we lack (and lack what we hold), so both start a pull at once.
import type { PeerId } from '@libp2p/interface'
import type { NodeHost } from './host.js'
import type { Emit } from './events.js'

export interface PeerEventsParts {
  host: NodeHost
  isJoined: (topic: string) => boolean
  requestSync: (peer: string) => void
  emit: Emit
}

/** Start listening; returns the function that stops it. */
export function watchPeers (p: PeerEventsParts): () => void {
  const { host } = p
  const onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    p.emit('peer:join', { peer })
    p.requestSync(peer)
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => { p.emit('peer:leave', { peer: evt.detail.toString() }) }
  const pubsub = host.pubsub
  const onSubscriptions = (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (evt.detail.subscriptions.some(s => s.subscribe && p.isJoined(s.topic))) p.requestSync(evt.detail.peerId.toString())
  }
  host.events.addEventListener('peer:connect', onConnect)
  host.events.addEventListener('peer:disconnect', onDisconnect)
  pubsub.addEventListener('subscription-change', onSubscriptions)
  return () => {
    host.events.removeEventListener('peer:connect', onConnect)
    host.events.removeEventListener('peer:disconnect', onDisconnect)
    pubsub.removeEventListener('subscription-change', onSubscriptions)
  }
}
