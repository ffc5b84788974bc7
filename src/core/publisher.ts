// Publishing: sign an own message with the next seq of this node's chain on the topic, commit it to the
// local queue, then hand it to gossip. When the store is behind, publishers wait: that is the backpressure.
import type { PrivateKey } from '@libp2p/interface'
import { sealEnvelope, envelopeId, type Envelope } from './envelope.js'
import { checkTopic, checkPayload, InvalidInputError } from './limits.js'
import { CommittedNotDurableError, StoreError, type Store, type StoredMessage } from '../store/store.js'
import type { Sources } from './events.js'

export interface PublishResult {
  id: string
  origin: string
  topic: string
  seq: number
  ts: number
  /** position in this node's local log */
  offset: number
  /** true: a publish with the same msgId on this topic was already done within the window; this is its result */
  duplicate?: true
  /** false: committed and delivered, but the fsync failed, so it may not survive a power loss (never retry it) */
  durable?: false
  /** why durable is false */
  warning?: string
}

export interface PublishOptions {
  /** while waiting for the store (backpressure), abort with StoreError BUSY */
  signal?: AbortSignal
  /**
   * idempotency key (as JetStream's Nats-Msg-Id): the same key on the same topic within the duplicate
   * window (default 2 min, kept across restarts) returns the first publish's result with duplicate: true
   */
  msgId?: string
}

const MSG_ID = /^[\x21-\x7e]{1,128}$/

/** 1-128 printable ASCII characters, no spaces */
export function checkMsgId (msgId: unknown): string {
  if (typeof msgId !== 'string' || !MSG_ID.test(msgId)) throw new InvalidInputError(`invalid msg id ${JSON.stringify(msgId)}: use 1-128 printable ASCII characters without spaces`, 'BAD_MSG_ID')
  return msgId
}

export interface PublisherParts {
  store: Store
  key: PrivateKey
  /** this node's peer id: the origin of what it publishes */
  origin: string
  sources: Sources
  maxPendingWrites: number
  maxPayloadBytes: number
  /** throws once the node has stopped */
  checkRunning: () => void
  isJoined: (topic: string) => boolean
  join: (topic: string) => void
  /** gossip an own message once it is on disk */
  gossip: (envelope: Envelope, raw: Uint8Array) => void
}

export class Publisher {
  private waiters: Array<() => void> = []
  /** publishes with a msg id not yet answered: a concurrent retry waits for the first */
  private readonly inflight = new Map<string, Promise<PublishResult>>()

  constructor (private readonly p: PublisherParts) {}

  /** Resolves once the message is committed; waits while maxPendingWrites are queued (see GossipNode.publish). */
  async publish (topic: string, payload: Uint8Array | string, opts: PublishOptions = {}): Promise<PublishResult> {
    checkTopic(topic)
    if (opts.msgId == null) return await this.publishOnce(topic, payload, opts)
    const msgId = checkMsgId(opts.msgId)
    const key = `${topic}\u0000${msgId}`
    for (;;) {
      const first = this.inflight.get(key)
      if (first == null) break
      // a first attempt that failed published nothing: then this one publishes
      try { return { ...await first, duplicate: true } } catch { if (this.inflight.get(key) === first) this.inflight.delete(key) }
    }
    const prior = this.p.store.findPublished(topic, msgId)
    if (prior != null) {
      const { origin, seq, ts, offset } = prior
      return { id: envelopeId({ origin, topic, seq }), origin, topic, seq, ts, offset, duplicate: true }
    }
    const p = this.publishOnce(topic, payload, opts, msgId)
    this.inflight.set(key, p)
    try {
      return await p
    } finally {
      if (this.inflight.get(key) === p) this.inflight.delete(key)
    }
  }

  private async publishOnce (topic: string, payload: Uint8Array | string, opts: PublishOptions, msgId?: string): Promise<PublishResult> {
    const { store } = this.p
    // a copy of the caller's buffer: what is signed, stored and handed to local consumers cannot change
    // if the caller reuses it before the commit
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload)
    checkPayload(bytes, this.p.maxPayloadBytes)
    const signal = opts.signal
    while (store.pendingWrites >= this.p.maxPendingWrites) {
      if (signal?.aborted === true) throw new StoreError('the store is behind; retry shortly', 'BUSY')
      await new Promise<void>(resolve => {
        const done = (): void => { signal?.removeEventListener('abort', done); resolve() }
        this.waiters.push(done)
        signal?.addEventListener('abort', done, { once: true })
      })
      this.p.checkRunning()
    }
    if (!this.p.isJoined(topic)) this.p.join(topic)
    const origin = this.p.origin
    // reserve, sign and queue in one tick so a failed commit can hand the seq back (see Store.flush)
    const { seq, prev } = store.reservePublish(topic, origin)
    const ts = Date.now()
    const { envelope, bytes: raw, hash } = sealEnvelope(this.p.key, origin, topic, seq, ts, bytes, prev)
    const id = envelopeId(envelope)
    this.p.sources.set(id, 'local')
    let row: StoredMessage | null
    let notDurable: CommittedNotDurableError | undefined
    try {
      row = await store.insert({ topic, origin, seq, ts, payload: bytes, raw, own: { prev, hash, msgId } })
    } catch (err) {
      // committed and delivered already: answering an error would invite a retry that publishes it twice.
      // It is published; say that it may not survive a power loss
      if (!(err instanceof CommittedNotDurableError)) throw err
      notDurable = err
      row = err.row
    } finally {
      this.p.sources.delete(id)
    }
    if (row == null) throw new Error(`publish: ${id} already stored`)
    // not gossiped while it may not be on disk: lost to a power loss, its seq would be signed again with
    // another body, a fork of our own stream at every peer that got this one. Sync serves it once an fsync
    // covers it (own-unsynced.ts): after a failed fsync none does, so only once the daemon restarts (wal.ts)
    if (notDurable == null) this.p.gossip(envelope, raw)
    const r: PublishResult = { id, origin, topic, seq, ts, offset: row.offset }
    if (notDurable != null) { r.durable = false; r.warning = notDurable.message }
    return r
  }

  /** Commits and acks both bring the store back under the limit: let waiting publishers look again. */
  wake (): void {
    if (this.p.store.pendingWrites < this.p.maxPendingWrites) this.release()
  }

  /** On stop: every waiter wakes and finds the node stopped. */
  release (): void {
    for (const w of this.waiters.splice(0)) w()
  }
}
