// Bounds what one peer's identify answer can make this node keep. libp2p's identify reads up to 10
// length-prefixed messages of up to 8 KiB each and writes all of their listen addresses and protocols to
// the peer store: one peer id kept 2,500 addresses and 350 protocols there (~82 KB), and any number of
// fresh ids can do it (attacker review, q3 probe). identify has no option for counts, so it is given a
// view of the peer store that trims its writes (consumeIdentifyMessage in @libp2p/identify's utils.js:
// one patch of addresses, protocols and signed record, one merge of agent and protocol version).
import { identify, type IdentifyInit } from '@libp2p/identify'
import type { Address, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * One identify message's bytes: a gossipd node's own is 632 bytes with 5 listen addresses (its signed
 * peer record 242 of them); this fits about 80 addresses. libp2p's default is 8 KiB.
 */
export const IDENTIFY_MAX_MESSAGE_BYTES = 4_096
/** TCP addresses kept per peer (gossipd dials TCP only) */
export const MAX_PEER_ADDRESSES = 16
/** protocols kept per peer, those this node speaks first (a gossipd node announces 10) */
export const MAX_PEER_PROTOCOLS = 32
const MAX_PROTOCOL_CHARS = 128
/** a signed peer record larger than this is not kept (a gossipd node's is ~250 bytes with 5 addresses) */
const MAX_PEER_RECORD_BYTES = 2_048
/** agent and protocol version strings (metadata) */
const MAX_METADATA_BYTES = 256

const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/** host/tcp/port, with or without /p2p/id: the only addresses gossipd dials */
function isTcp (ma: Multiaddr): boolean {
  const c = ma.getComponents()
  return c.length >= 2 && c.length <= 3 && HOSTS.has(c[0].name) && c[1].name === 'tcp' && (c.length === 2 || c[2].name === 'p2p')
}

/** at most MAX_PEER_ADDRESSES TCP addresses, in the peer's order */
export function keptAddresses<T extends Address | Multiaddr> (addrs: T[], toMultiaddr: (a: T) => Multiaddr): T[] {
  const out: T[] = []
  for (const a of addrs) {
    if (out.length >= MAX_PEER_ADDRESSES) break
    if (isTcp(toMultiaddr(a))) out.push(a)
  }
  return out
}

/** the protocols this node speaks too first (what it may open to the peer), then others, up to MAX_PEER_PROTOCOLS */
export function keptProtocols (protocols: string[], ours: string[]): string[] {
  const mine = new Set(ours)
  const short = protocols.filter(p => p.length <= MAX_PROTOCOL_CHARS)
  return [...short.filter(p => mine.has(p)), ...short.filter(p => !mine.has(p))].slice(0, MAX_PEER_PROTOCOLS)
}

function trim (data: Partial<PeerData>, ours: () => string[]): Partial<PeerData> {
  const out = { ...data }
  if (out.addresses != null) out.addresses = keptAddresses(out.addresses, a => a.multiaddr)
  if (out.multiaddrs != null) out.multiaddrs = keptAddresses(out.multiaddrs, a => a)
  if (out.protocols != null) out.protocols = keptProtocols(out.protocols, ours())
  if (out.peerRecordEnvelope != null && out.peerRecordEnvelope.byteLength > MAX_PEER_RECORD_BYTES) delete out.peerRecordEnvelope
  if (out.metadata != null) {
    const entries = out.metadata instanceof Map ? [...out.metadata.entries()] : Object.entries(out.metadata)
    out.metadata = Object.fromEntries(entries.map(([k, v]) => [k, v?.subarray(0, MAX_METADATA_BYTES)]))
  }
  return out
}

/** the peer store as identify sees it: its patch and merge writes trimmed, everything else as is */
function trimmedPeerStore (store: PeerStore, ours: () => string[]): PeerStore {
  return new Proxy(store, {
    get (target, key) {
      if (key === 'patch' || key === 'merge') {
        return async (peer: PeerId, data: PeerData, opts?: object) => await target[key](peer, trim(data, ours), opts)
      }
      const v = Reflect.get(target, key) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

interface IdentifyComponents { peerStore: PeerStore, registrar: { getProtocols: () => string[] } }

/** identify(), with smaller messages and its peer-store writes trimmed to what one peer may make us keep */
export function boundedIdentify (init: IdentifyInit = {}): ReturnType<typeof identify> {
  const factory = identify({ maxMessageSize: IDENTIFY_MAX_MESSAGE_BYTES, ...init })
  return (components) => {
    const c = components as unknown as IdentifyComponents
    const peerStore = trimmedPeerStore(c.peerStore, () => c.registrar.getProtocols())
    // libp2p's components object is a Proxy itself (services by name): only the peer store is swapped
    return factory(new Proxy(components, {
      get: (target, key) => key === 'peerStore' ? peerStore : Reflect.get(target, key) as unknown,
    }))
  }
}
