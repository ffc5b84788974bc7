// gossipsub configured for self-signed envelopes: gossipsub itself signs nothing (StrictNoSign), message ids
// are envelope ids, so every duplicate copy is dropped by id before anything is verified, and the envelope
// signature is checked once per unique message by the topic validator (node.ts).
import { createHash } from 'node:crypto'
import { StrictNoSign, type GossipsubOpts } from '@libp2p/gossipsub'
import { decodeEnvelope, envelopeId, type Envelope } from '../envelope.js'
import { MAX_PAYLOAD_BYTES } from '../limits.js'

// gossipsub hands the same data buffer to fastMsgIdFn, msgIdFn and the validator: decode it once
const decoded = new WeakMap<Uint8Array, Envelope | null>()

export function decodeGossipData (data: Uint8Array): Envelope | null {
  let env = decoded.get(data)
  if (env === undefined) {
    try { env = decodeEnvelope(data) } catch { env = null }
    decoded.set(data, env)
  }
  return env
}

function idOf (data: Uint8Array): string {
  const env = decodeGossipData(data)
  // garbage still needs a stable id so the validator can reject it once
  return env != null ? envelopeId(env) : `bad:${createHash('sha256').update(data).digest('base64')}`
}

const utf8 = new TextEncoder()

export function gossipOptions (maxPayloadBytes = MAX_PAYLOAD_BYTES): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictNoSign,
    // publishing never fails for lack of listeners: the message is already stored and sync delivers it
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    fastMsgIdFn: (rpc) => idOf(rpc.data ?? new Uint8Array()),
    msgIdFn: (msg) => utf8.encode(idOf(msg.data)),
    // one RPC may carry several messages (IWANT answers): never below gossipsub's usual 4 MiB
    maxInboundDataLength: Math.max(4 * 1024 * 1024, 2 * maxPayloadBytes + 64 * 1024),
    // a slow peer's queue must not grow without bound: past this the send is refused and sync carries it
    maxOutboundBufferSize: 16 * 1024 * 1024,
  }
}
