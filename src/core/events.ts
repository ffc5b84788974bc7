// What a node reports: the events it emits (and what they carry) and its log lines. The parts of a node
// get an `emit` and a `log` function injected, so none of them needs the node itself.
import type { EventEmitter } from 'node:events'
import type { StoredMessage } from '../store/store.js'
import type { GapInfo } from './consumer.js'
import type { ForkInfo } from './forks.js'

/** the path a message came by: published here, received by gossip, or pulled by sync */
export type MessageSource = 'local' | 'gossip' | 'sync'
export interface ReceivedMessage extends StoredMessage { id: string, source: MessageSource }

export interface NodeEvents {
  'peer:join': [{ peer: string }]
  'peer:leave': [{ peer: string }]
  message: [ReceivedMessage]
  gap: [GapInfo]
  sync: [{ peer: string, received: number, stored: number, ms: number, batches: number }]
  /** a pull from this peer failed (the next pull retries it) */
  'sync:failed': [{ peer: string, error: string }]
  /**
   * envelopes from `peer` were rejected: `count` of them (default 1; a sync batch's malformed envelopes are one
   * event), each also counted in status.rejected; `banned` marks the peer being banned (no envelope, count 0)
   */
  rejected: [{ peer: string, reason: string, id?: string, count?: number, banned?: boolean, detail?: string }]
  /** an origin signed two versions of one seq (forks.ts): once per stream (topic, origin), which is blocked from `seq` up
   * (again only if a lower forked seq of it is found) */
  fork: [ForkInfo]
  error: [Error]
}

export type Emit = EventEmitter<NodeEvents>['emit']

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFn = (level: LogLevel, msg: string, extra?: object) => void

/** Which path each message being stored came by, keyed by envelope id, until its commit is announced. */
export type Sources = Map<string, MessageSource>

/** counters for status and metrics; they survive restarts of the node */
export interface NodeStats {
  shed: number
  rejected: number
  signatureChecks: number
  unauthorized?: number
  throttled?: number
  /** streams (topic, origin) found forked: their origin signed two versions of one seq (forks.ts) */
  forks?: number
  /** envelopes not stored because their stream forked at or below their seq */
  forkRefused?: number
  /** envelopes of new origins not stored because their topic had as many origins as it keeps (origin-limit.ts) */
  originsRefused?: number
}
