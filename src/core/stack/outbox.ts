// Flow control for gossip. gossipsub's publish() has no backpressure: it appends to every peer's stream
// and, when publishing outruns the network, buffers grow until the keep-alive ping times out and every
// connection is closed. Here gossip is only an accelerator: messages are already on disk, so when peers'
// outbound buffers are full we hold gossip back, and past a bounded queue we skip gossip for the oldest
// messages and let the sync protocol carry them: peers pull them when a later gossiped message shows
// them a hole, or at their next periodic pull.
import type { SwarmHost } from './libp2p.js'

export interface OutboxOptions {
  /** most messages waiting to be gossiped; older ones beyond this go by sync only */
  maxQueued?: number
  /** hold gossip while any peer's gossipsub stream has this many bytes not yet sent */
  maxBufferedBytes?: number
}

export class GossipOutbox {
  private queue: Array<{ topic: string, data: Uint8Array }> = []
  private draining = false
  private stopped = false
  private retry?: NodeJS.Timeout
  private readonly maxQueued: number
  private readonly maxBufferedBytes: number
  /** messages that were not gossiped because the queue was full (they travel by sync) */
  skipped = 0

  constructor (private readonly host: SwarmHost, opts: OutboxOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 2_000
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 2 * 1024 * 1024
  }

  get queued (): number { return this.queue.length }

  push (topic: string, data: Uint8Array): void {
    if (this.stopped) return
    this.queue.push({ topic, data })
    if (this.queue.length > this.maxQueued) {
      this.queue.shift()
      this.skipped++
    }
    void this.drain()
  }

  /**
   * bytes waiting in the fullest peer's outbound gossipsub stream. streamsOutbound is gossipsub-internal
   * (version pinned in package.json; test/stack-patches.test.ts checks it fills when a peer stalls).
   */
  private bufferedBytes (): number {
    const streams = (this.host.services.pubsub as unknown as { streamsOutbound?: Map<string, { rawStream?: { writeBufferLength?: number } }> }).streamsOutbound
    let max = 0
    for (const s of streams?.values() ?? []) max = Math.max(max, s.rawStream?.writeBufferLength ?? 0)
    return max
  }

  private async drain (): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (!this.stopped && this.queue.length > 0) {
        if (this.bufferedBytes() > this.maxBufferedBytes) {
          this.retry ??= setTimeout(() => { this.retry = undefined; void this.drain() }, 5)
          return
        }
        const m = this.queue.shift()!
        try {
          await this.host.services.pubsub.publish(m.topic, m.data)
        } catch {
          // stored already; sync delivers what gossip could not
        }
      }
    } finally {
      this.draining = false
    }
  }

  stop (): void {
    this.stopped = true
    this.queue = []
    if (this.retry != null) clearTimeout(this.retry)
  }
}
