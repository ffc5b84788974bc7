// The one place where the libp2p stack is assembled. Swapping a transport, muxer or the pubsub
// implementation is a change to this file only: the rest of gossipd sees the small SwarmHost surface below.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { halfWindowYamux } from './yamux-window.js'
import { corkTcpWrites } from './tcp-cork.js'
import { identify } from '@libp2p/identify'
import { boundedIdentify } from './identify-bound.js'
import { ping } from '@libp2p/ping'
import { scalingMdns, type MdnsStats } from './mdns.js'
import { gossipsub, type GossipsubOpts, type GossipSub } from '@libp2p/gossipsub'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { swarmMdnsTag, swarmProtector } from './swarm-key.js'
import { multiaddr } from '@multiformats/multiaddr'

export type SwarmHost = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>, ping: ReturnType<ReturnType<typeof ping>>, pubsub: GossipSub }>

export interface SwarmOptions {
  privateKey: PrivateKey
  listen: string[]
  mdns: boolean
  /** mDNS service tag: nodes only see others with the same tag (lets tests and LANs stay apart) */
  mdnsServiceTag?: string
  /** fastest mDNS query interval, used at start and when peers are lost (default 1 s) */
  mdnsIntervalMs?: number
  /** slowest mDNS query interval, once the peer set is stable (default 30 s) */
  mdnsMaxIntervalMs?: number
  /** connection bounds (see peers.ts): dial discovered peers only below low; evict.ts prunes back to high */
  connections?: ConnectionBounds
  /** multiaddrs of static peers: their hosts are exempt from the connection limit and pruning */
  staticPeers?: string[]
  /** envelope-aware message id functions and limits for gossipsub (see gossip.ts) */
  gossip: Partial<GossipsubOpts>
  /** batch socket writes per event-loop iteration (tcp-cork.ts); needs a backpressure-aware sender (default true) */
  corkTcp?: boolean
  /** yamux window updates only once half the receive window is used (yamux-window.ts) (default true) */
  halfWindowYamux?: boolean
  /** private swarm: the swarm key file's bytes (swarm-key.ts); without it, any node may connect */
  swarmKey?: Uint8Array
  /** who may connect (gate.ts) */
  connectionGater?: ConnectionGater
  /** libp2p's own connection monitor (pings all connections at once); gossipd runs keepalive.ts instead */
  connectionMonitor?: boolean
  /** TCP keep-alive probes from TCP_KEEPALIVE_IDLE_MS of idle (default true): what notices a silent partition on an idle connection (keepalive.ts) */
  kernelKeepAlive?: boolean
  /** what mDNS discovery counts (mdns.ts) */
  mdnsStats?: MdnsStats
  /** a libp2p metrics implementation (the daemon passes @libp2p/prometheus-metrics) */
  metrics?: NonNullable<Parameters<typeof createLibp2p>[0]>['metrics']
}

/**
 * An idle socket is probed by the kernel after this long without a segment, then every second (libuv sets
 * TCP_KEEPINTVL 1 s and TCP_KEEPCNT 10 with it): a silent partition closes an idle connection in about 13 s,
 * while a live peer's kernel answers the probes without waking either process.
 */
export const TCP_KEEPALIVE_IDLE_MS = 3_000

export interface ConnectionBounds { low: number, high: number }
export const DEFAULT_CONNECTIONS: ConnectionBounds = { low: 8, high: 16 }

/**
 * slots libp2p keeps open above the high mark: inbound connections are still taken at the mark (libp2p
 * refuses them at its maxConnections), and evict.ts closes one connection per arrival to get back to it
 */
export function connectionHeadroom (high: number): number {
  return Math.max(2, Math.ceil(high / 4))
}

const keepAlive = { keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_IDLE_MS }

export async function createSwarm (opts: SwarmOptions): Promise<SwarmHost> {
  const tag = opts.swarmKey != null ? swarmMdnsTag(opts.swarmKey, opts.mdnsServiceTag) : opts.mdnsServiceTag
  const bounds = opts.connections ?? DEFAULT_CONNECTIONS
  if (!(bounds.low >= 1 && bounds.high >= bounds.low)) throw new Error(`connection bounds must be 1 <= low <= high, got ${bounds.low}/${bounds.high}`)
  const peerDiscovery = opts.mdns
    ? [scalingMdns({ serviceTag: tag, minIntervalMs: opts.mdnsIntervalMs, maxIntervalMs: opts.mdnsMaxIntervalMs, wantPeers: bounds.low, stats: opts.mdnsStats })]
    : []
  const node = await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [opts.kernelKeepAlive === false ? tcp() : tcp({ dialOpts: keepAlive, listenOpts: keepAlive })],
    connectionEncrypters: [noise()],
    ...(opts.swarmKey != null ? { connectionProtector: swarmProtector(opts.swarmKey) } : {}),
    streamMuxers: [opts.halfWindowYamux === false ? yamux() : halfWindowYamux()],
    peerDiscovery,
    metrics: opts.metrics,
    ...(opts.connectionGater != null ? { connectionGater: opts.connectionGater } : {}),
    connectionManager: {
      // a LAN of gossip daemons: we redial static peers ourselves (peers.ts); a gossip burst from many
      // local nodes restarting at once must not be refused as a connection flood
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 50,
      // the high mark plus headroom: libp2p refuses inbound connections at this and picks the lowest-valued
      // peers to prune past it (tags set in peer-tags.ts, which also closes them: see there); at the high
      // mark itself a newcomer is taken in and evict.ts closes someone else's connection
      maxConnections: bounds.high + connectionHeadroom(bounds.high),
      // static peers' hosts are never refused nor pruned
      allow: staticHosts(opts.staticPeers ?? []),
    },
    connectionMonitor: {
      enabled: opts.connectionMonitor ?? true,
      // the keep-alive ping must not kill a busy but healthy connection: flow control keeps the event loop
      // responsive, and a generous timeout covers fsync stalls
      pingInterval: 10_000,
      pingTimeout: { minTimeout: 10_000, maxTimeout: 30_000 },
    },
    services: {
      identify: boundedIdentify(),
      ping: ping(),
      pubsub: gossipsub(opts.gossip),
    },
  })
  if (opts.corkTcp !== false) corkTcpWrites(node)
  return node as unknown as SwarmHost
}

function staticHosts (peers: string[]): string[] {
  const hosts = new Set<string>()
  for (const p of peers) {
    const c = multiaddr(p).getComponents()
    const ip = c.find(x => x.name === 'ip4' || x.name === 'ip6')
    if (ip?.value != null) hosts.add(`/${ip.name}/${ip.value}`)
  }
  return [...hosts]
}

// ---- benchmark baseline (src/bench) ----
// The raw-gossipsub baseline runs on the same transports, encrypters, muxer and services as gossipd (it is
// built by createSwarm above), configured as an application using gossipsub directly gets them: stock
// gossipsub options (StrictSign, default message ids, default buffer limits), no mDNS, stock yamux window
// updates, and no write corking, which only suits a sender with flow control (see tcp-cork.ts: with it,
// raw gossipsub loses messages under overload).

/** A swarm with the same transports, encrypters, muxer and services, none of gossipd's patches, and gossipsub's own defaults. */
export async function createBaselineSwarm (opts: { privateKey: PrivateKey, listen: string[] }): Promise<SwarmHost> {
  return await createSwarm({ privateKey: opts.privateKey, listen: opts.listen, mdns: false, gossip: {}, corkTcp: false, halfWindowYamux: false, kernelKeepAlive: false })
}
