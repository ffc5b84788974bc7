// What the node uses of libp2p, as one small surface. A whole libp2p node (a SwarmHost, built by
// createSwarm or by the caller) provides it, and so do the components libp2p hands a service
// (service.ts), where there is no libp2p object: only its registrar, connection and address managers,
// event bus, and the other services by name.
import type { PeerId, Connection, Stream, StreamHandler, StreamHandlerOptions, AbortOptions, Libp2pEvents, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { GossipSub } from '@libp2p/gossipsub'
import type { SwarmHost } from './stack/libp2p.js'
import { connectedPeers } from './stack/connected-peers.js'

export interface NodeHost {
  readonly peerId: PeerId
  /** gossipsub, configured with gossipOptions() (gossip.ts) */
  readonly pubsub: GossipSub
  /** peer:connect and peer:disconnect */
  readonly events: Pick<TypedEventTarget<Libp2pEvents>, 'addEventListener' | 'removeEventListener'>
  getPeers: () => PeerId[]
  getConnections: () => Connection[]
  getMultiaddrs: () => Multiaddr[]
  dialProtocol: (peer: PeerId, protocol: string, opts: AbortOptions) => Promise<Stream>
  handle: (protocol: string, handler: StreamHandler, opts: StreamHandlerOptions) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
}

export function libp2pHost (l: SwarmHost): NodeHost {
  return {
    peerId: l.peerId,
    pubsub: l.services.pubsub,
    events: l,
    getPeers: () => connectedPeers(l),
    getConnections: () => l.getConnections(),
    getMultiaddrs: () => l.getMultiaddrs(),
    dialProtocol: async (peer, protocol, opts) => await l.dialProtocol(peer, protocol, opts),
    handle: async (protocol, handler, opts) => { await l.handle(protocol, handler, opts) },
    unhandle: async protocol => { await l.unhandle(protocol) },
  }
}

/** The parts of libp2p's components (libp2p/src/components.ts) a gossipd service uses. */
export interface HostComponents {
  peerId: PeerId
  events: TypedEventTarget<Libp2pEvents>
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string, options?: AbortOptions) => Promise<void>
  }
  connectionManager: {
    getConnections: (peerId?: PeerId) => Connection[]
    openStream: (peer: PeerId, protocol: string | string[], options?: AbortOptions) => Promise<Stream>
  }
  addressManager: { getAddresses: () => Multiaddr[] }
}

/**
 * libp2p puts every service into the components under its key in `services`, behind a proxy that throws
 * for a missing one; it is looked up when first used, because services are created in key order and
 * gossipsub may come after us.
 */
export function componentsHost (c: HostComponents, pubsubName: string): NodeHost {
  const services = c as unknown as Record<string, unknown>
  return {
    peerId: c.peerId,
    get pubsub (): GossipSub {
      let pubsub: unknown
      try { pubsub = services[pubsubName] } catch { pubsub = undefined }
      if (pubsub == null) throw new Error(`gossipd needs a gossipsub service named "${pubsubName}" in the same libp2p node`)
      return pubsub as GossipSub
    },
    events: c.events,
    getPeers: () => {
      // as Libp2p.getPeers: one entry per connected peer, however many connections it has
      const peers = new Map<string, PeerId>()
      for (const conn of c.connectionManager.getConnections()) peers.set(conn.remotePeer.toString(), conn.remotePeer)
      return [...peers.values()]
    },
    getConnections: () => c.connectionManager.getConnections(),
    getMultiaddrs: () => c.addressManager.getAddresses(),
    dialProtocol: async (peer, protocol, opts) => await c.connectionManager.openStream(peer, [protocol], opts),
    handle: async (protocol, handler, opts) => { await c.registrar.handle(protocol, handler, opts) },
    unhandle: async protocol => { await c.registrar.unhandle(protocol) },
  }
}

/**
 * GossipOutbox (outbox.ts) is typed to take a whole SwarmHost but reads only `services.pubsub`; a service
 * has no libp2p object to give it, so it gets just that. Goes once the outbox takes the pubsub alone.
 */
export function outboxHost (host: NodeHost): SwarmHost {
  return { services: { get pubsub () { return host.pubsub } } } as unknown as SwarmHost
}
