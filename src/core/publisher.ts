// Publishing: sign an own message with the next seq of this node's chain on the topic, commit it to the
// local queue, then hand it to gossip. When the store is behind, publishers wait: that is the backpressure.
import type { PrivateKey } from '@libp2p/interface'
import { sealEnvelope, envelopeId, type Envelope } from './envelope.js'
import { checkTopic, checkPayload } from './limits.js'
import { StoreError, type Store, type StoredMessage } from '../store/store.js'
import type { Sources } from './events.js'

export interface PublishResult {
  id: string
  origin: string
  topic: string
  seq: number
  ts: number
  /** position in this node's local log */
  offset: number
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

  constructor (private readonly p: PublisherParts) {}

  /** Resolves once the message is committed; waits while maxPendingWrites are queued (see GossipNode.publish). */
  async publish (topic: string, payload: Uint8Array | string, opts: { signal?: AbortSignal } = {}): Promise<PublishResult> {
    const { store } = this.p
    checkTopic(topic)
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload
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
    try {
      row = await store.insert({ topic, origin, seq, ts, payload: bytes, raw, own: { prev, hash } })
    } finally {
      this.p.sources.delete(id)
    }
    if (row == null) throw new Error(`publish: ${id} already stored`)
    this.p.gossip(envelope, raw)
    return { id, origin, topic, seq, ts, offset: row.offset }
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
