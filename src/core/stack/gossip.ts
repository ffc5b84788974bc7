// gossipsub configured for self-signed envelopes: gossipsub itself signs nothing (StrictNoSign), and the
// envelope signature is checked once per unique copy by the topic validator (inbound.ts). A gossip message
// is one envelope or a bundle of them (bundle.ts).
// Message ids are content-addressed (a hash of the envelope bytes), not origin:topic:seq: gossipsub marks an
// id as seen before validating, so a predictable id would let a forged copy sent first suppress the genuine
// one. Duplicates of one (topic, origin, seq) with different bytes are dropped by the store check instead.
import { StrictNoSign, type GossipsubOpts } from '@libp2p/gossipsub'
import { decodeEnvelope, sha256, type Envelope } from '../envelope.js'
import { decodeBundle, isBundle } from '../bundle.js'
import { MAX_PAYLOAD_BYTES } from '../limits.js'

/** Peers in gossipsub's mesh of a topic: getMeshPeers is public on its class but missing from its exported interface. */
export function meshPeersOf (pubsub: unknown, topic: string): string[] {
  return (pubsub as { getMeshPeers: (topic: string) => string[] }).getMeshPeers(topic)
}

/** what one gossip message carries: one envelope, or a bundle of them (bundle.ts) with each one's bytes */
export interface GossipData { envelopes: Envelope[], raws: Uint8Array[], bundle: boolean }

// gossipsub hands the same data buffer to fastMsgIdFn, msgIdFn and the validator: decode it once
const decoded = new WeakMap<Uint8Array, GossipData | null>()

/** null for anything malformed, including a bundle with one malformed envelope in it */
export function decodeGossipData (data: Uint8Array): GossipData | null {
  let d = decoded.get(data)
  if (d === undefined) {
    try {
      const bundle = isBundle(data)
      const raws = bundle ? decodeBundle(data) : [data]
      d = { envelopes: raws.map(decodeEnvelope), raws, bundle }
    } catch {
      d = null
    }
    decoded.set(data, d)
  }
  return d
}

const ids = new WeakMap<Uint8Array, string>()

/** the gossip message id: SHA-256 of the exact bytes, so only an identical copy counts as seen */
export function gossipMessageId (data: Uint8Array): string {
  let id = ids.get(data)
  if (id === undefined) {
    id = sha256(data).toString('base64')
    ids.set(data, id)
  }
  return id
}

const utf8 = new TextEncoder()

export function gossipOptions (maxPayloadBytes = MAX_PAYLOAD_BYTES): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictNoSign,
    // publishing never fails for lack of listeners: the message is already stored and sync delivers it
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    fastMsgIdFn: (rpc) => gossipMessageId(rpc.data ?? new Uint8Array()),
    msgIdFn: (msg) => utf8.encode(gossipMessageId(msg.data)),
    // one RPC may carry several messages (IWANT answers): never below gossipsub's usual 4 MiB
    maxInboundDataLength: Math.max(4 * 1024 * 1024, 2 * maxPayloadBytes + 64 * 1024),
    // a slow peer's queue must not grow without bound: past this the send is refused and sync carries it
    maxOutboundBufferSize: 16 * 1024 * 1024,
  }
}
