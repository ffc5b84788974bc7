// JSON bodies of the API's successful answers. The daemon checks its core values against these by assignment.
import type { MessageJson } from './message.js'

/** POST /v1/topics/:topic/messages (201) */
export interface PublishResult { id: string, origin: string, topic: string, seq: number, ts: number, offset: number }

export interface PeerInfo { id: string, addrs: string[], direction: string, topics: string[] }
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
  inboundShed?: number
  rejected?: number
  unauthorized?: number
  signatureChecks?: number
}

/** SSE `event: ready` data: the stream is open */
export interface StreamReady { topic: string, consumer: string | null }

/** SSE `event: gap` data: messages of an origin that this daemon lacks */
export interface GapEvent { topic: string, origin: string, from: number, to: number, consumer?: string }
