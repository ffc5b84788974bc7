// Core values -> the API's JSON shapes (src/wire). Where a core type already is the JSON shape, the
// function is the identity and its signature is the compile-time check that the two still agree.
import type { GossipNode } from '../../core/node.js'
import type { GapInfo } from '../../core/consumer.js'
import { envelopeId } from '../../core/envelope.js'
import type { StoredMessage } from '../../store/store.js'
import { toMessageJson, type MessageJson, type PayloadEncoding } from '../../wire/message.js'
import type { GapEvent, PeerInfo, PublishResult, Status, StatusExtra, TopicInfo } from '../../wire/results.js'

export function messageJson (m: StoredMessage, encoding?: PayloadEncoding): MessageJson {
  return toMessageJson(m, envelopeId(m), encoding)
}

export const publishJson = (r: Awaited<ReturnType<GossipNode['publish']>>): PublishResult => r
export const peersJson = (p: ReturnType<GossipNode['peers']>): PeerInfo[] => p
export const topicsJson = (t: ReturnType<GossipNode['topics']>): TopicInfo[] => t
export const gapJson = (g: GapInfo): GapEvent => g
export const statusJson = (s: ReturnType<GossipNode['status']>, extra: StatusExtra = {}): Status => ({ ...s, ...extra })
