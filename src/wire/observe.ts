// What the observability routes answer: the swarm page's and `gossipd top`'s snapshot, the live tail, the
// login link. Declared once here for the daemon that builds them and the client that reads them.
import type { PeerInfo, Status } from './results.js'

export interface LoginLink { url: string, expiresInMs: number }

export interface TailMessage { topic: string, origin: string, seq: number, ts: number, source: string, offset: number, size: number, preview: string, binary: boolean }

export interface SyncEntry { time: number, peer: string, ok: boolean, received: number, stored: number, ms: number, error?: string }

/** what /v1/observe/snapshot returns */
export interface SwarmSnapshot {
  now: number
  self: Partial<Status> & { peerId: string }
  peers: PeerInfo[]
  topics: Array<{ topic: string, messages: number, bytes: number, peers: number, mesh: string[], rate: number[], latencyMeanMs: Array<number | null>, latencyMaxMs: Array<number | null> }>
  sync: { recent: SyncEntry[], pulls: number, failed: number, stored: number }
  consumers: Array<{ topic: string, name?: string, lag: number, unacked?: number }>
}
