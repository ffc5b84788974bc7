// JSON bodies of the API's successful answers. The daemon checks its core values against these by assignment.
import type { MessageJson } from './message.js'

/**
 * POST /v1/topics/:topic/messages: 201 published; 200 with duplicate: true when the idempotency key was
 * already published on this topic within the duplicate window (the first publish's result). durable:
 * false (with warning) means committed and delivered but the fsync failed: it is published, do not retry.
 */
export interface PublishResult {
  id: string
  origin: string
  topic: string
  seq: number
  ts: number
  offset: number
  duplicate?: true
  durable?: false
  warning?: string
}

export interface PeerInfo {
  id: string
  addrs: string[]
  /** 'inbound', 'outbound', or 'both' while two connections to the peer are open */
  direction: string
  topics: string[]
  /** round-trip time of the last keep-alive ping, ms */
  rtt?: number
}
/** GET /v1/peers */
export interface PeersResult { peers: PeerInfo[] }

export interface RetentionJson { maxMessages: number, maxBytes: number, maxAgeMs: number }
export interface TopicInfo { topic: string, messages: number, bytes: number, peers: number, retention: RetentionJson }
/** GET /v1/topics */
export interface TopicsResult { topics: TopicInfo[] }

/** PUT and DELETE /v1/topics/:topic */
export interface MembershipResult { topic: string, joined: boolean }

/** GET /v1/topics/:topic/messages */
export interface HistoryResult { topic: string, messages: MessageJson[] }

/** POST /v1/topics/:topic/consumers/:name/ack */
export interface AckResult { topic: string, consumer: string, origin: string, seq: number, acked: true }

/** What the daemon adds to the node's status (the library alone has none of these). */
export interface StatusExtra {
  version?: string
  pid?: number
  dataDir?: string
  api?: string
  uptimeMs?: number
  mdns?: boolean
  /** unhandled promise rejections in the daemon process (bugs, logged at error) */
  unhandledRejections?: number
}

/** sync with one peer, as status reports it (times are ms since the epoch, 0: never) */
export interface PeerSyncJson {
  peer: string
  pulls: number
  failures: number
  stalls: number
  lastPull: number
  lastSuccess: number
  lastErrorAt: number
  lastError?: string
  /** ms until this peer is pulled again in the background (it failed or stalled) */
  backoffMs: number
}

/** sync health in status */
export interface SyncHealthJson {
  pulls: number
  failures: number
  stalls: number
  active: number
  queued: number
  /** holes in origins' streams being repaired */
  holes: number
  gapsWaiting: number
  gapsGivenUp: number
  /** sync requests from peers refused: over their per-peer rate */
  refused?: number
  /** the background pull's mean interval now (ms): the configured one while things change, up to 6x when idle */
  intervalMs?: number
  peers: PeerSyncJson[]
}

/** GET /v1/status */
export interface Status extends StatusExtra {
  peerId: string
  addresses: string[]
  peers: number
  topics: number
  pendingWrites: number
  consumers: number
  /** counters (see NodeStatus in src/core/node.ts) */
  gossipQueued?: number
  gossipSkipped?: number
  gossipBundles?: number
  gossipBundled?: number
  inboundShed?: number
  gossipStreamsReopened?: number
  gossipStreamsStalled?: number
  gossipDroppedUnjoined?: number
  mdnsRefusedNewPeers?: number
  rejected?: number
  unauthorized?: number
  signatureChecks?: number
  /** streams whose origin signed two versions of one seq, envelopes refused for it, and the first 100 of them */
  forks?: number
  forkRefused?: number
  /** envelopes of new origins refused: their topic had maxOriginsPerTopic origins */
  originsRefused?: number
  forked?: Array<{ topic: string, origin: string, seq: number }>
  /** WAL fsyncs done, and the seconds they took */
  fsyncs?: number
  fsyncSeconds?: number
  /** WAL checkpoints done on the store's worker thread, their seconds there, and failures */
  checkpoints?: number
  checkpointSeconds?: number
  checkpointFailures?: number
  quarantined?: number
  /** set once an fsync of the WAL failed: why (nothing is stored or acked until a restart), and messages refused since */
  storeFailed?: string
  storeRefused?: number
  sync?: SyncHealthJson
}

/** SSE `event: ready` data: the stream is open */
export interface StreamReady { topic: string, consumer: string | null }

/** SSE `event: gap` data: messages of an origin that this daemon lacks */
export interface GapEvent { topic: string, origin: string, from: number, to: number, consumer?: string }
