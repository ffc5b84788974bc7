// Which peers understand gossip bundles (bundle.ts). A node that does advertises BUNDLE_PROTOCOL, which
// identify passes on to its peers; a peer of an earlier version would Reject a bundle as malformed and
// penalise whoever sent it. So a bundle is published, and forwarded, only when every peer subscribed to
// the topic is known to understand it; otherwise envelopes go one per gossip message as before.
import type { PeerId, IdentifyResult, Stream } from '@libp2p/interface'
import type { NodeHost } from './host.js'

/** advertised only: no stream is ever opened on it */
export const BUNDLE_PROTOCOL = '/gossipd/bundle/1'

export class BundleSupport {
  private readonly peers = new Set<string>()

  constructor (private readonly host: NodeHost) {}

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const peer = evt.detail.peerId.toString()
    // identify push repeats this when a peer's protocols change
    if (evt.detail.protocols.includes(BUNDLE_PROTOCOL)) this.peers.add(peer)
    else this.peers.delete(peer)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.peers.delete(evt.detail.toString()) }

  /** Advertise bundles and start learning which peers do. */
  async start (): Promise<void> {
    this.host.events.addEventListener('peer:identify', this.onIdentify)
    this.host.events.addEventListener('peer:disconnect', this.onDisconnect)
    await this.host.handle(BUNDLE_PROTOCOL, (stream: Stream) => { stream.abort(new Error('nothing is served on this protocol')) },
      { maxInboundStreams: 1, maxOutboundStreams: 1 })
  }

  stop (): void {
    this.host.events.removeEventListener('peer:identify', this.onIdentify)
    this.host.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.peers.clear()
  }

  /** take the advertisement off a libp2p node that outlives this node */
  async unadvertise (): Promise<void> {
    await this.host.unhandle(BUNDLE_PROTOCOL)
  }

  /** whether every peer subscribed to the topic (but `except`, the one it came from) understands bundles */
  everySubscriber (topic: string, except?: string): boolean {
    for (const p of this.host.pubsub.getSubscribers(topic)) {
      const id = p.toString()
      if (id !== except && !this.peers.has(id)) return false
    }
    return true
  }
}
