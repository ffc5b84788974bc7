// The fault checker: publishes through every daemon's API at a steady rate (retrying what fails) and
// records each acknowledged publish; runs a durable consumer on every daemon that acks what it gets; at the
// end compares both with every daemon's stored history: acked-but-lost, duplicates delivered after a
// successful ack, per-origin order, and how long after the fault every daemon held every acked message.
import type { MessageJson } from '../wire/message.js'
import type { NodeApi } from './node-api.js'

const CONSUMER = 'fault-checker'

export interface AckedPublish { payload: string, via: number, origin: string, seq: number }

export interface NodeVerdict {
  node: number
  /** acked messages missing from this node's history */
  missingInHistory: number
  /** acked messages its durable consumer never delivered */
  missingInConsumer: number
  /** deliveries of an (origin, seq) at or below a cursor the daemon had already confirmed */
  duplicatesAfterAck: number
  /** deliveries whose seq did not go up within one origin on one stream */
  orderViolations: number
  /** the same payload stored under two ids (a publish retried after an answer was lost) */
  republished: number
  gaps: number
  reconnects: number
}

class ConsumerWatch {
  readonly delivered = new Set<string>()
  /** the acked cursor per origin the daemon confirmed (answered 200) */
  readonly confirmed = new Map<string, number>()
  duplicatesAfterAck = 0
  orderViolations = 0
  gaps = 0
  reconnects = 0
  private lastSeen = new Map<string, number>()
  private pendingAck = new Map<string, number>()
  private acking = false
  private close?: () => void
  private stopped = false
  private lastEvent = Date.now()

  constructor (private readonly api: NodeApi, private readonly topic: string) {}

  start (): void { void this.loop() }

  private async loop (): Promise<void> {
    while (!this.stopped) {
      try {
        let done!: () => void
        const ended = new Promise<void>(resolve => { done = resolve })
        this.lastSeen = new Map()
        const s = await this.api.stream(this.topic, CONSUMER, {
          message: m => this.onMessage(m),
          gap: () => { this.gaps++ },
          // what this stream delivered but did not ack yet is delivered again on the next one
          end: () => { this.pendingAck.clear(); done() },
        })
        this.close = s.close
        this.lastEvent = Date.now()
        // a stopped daemon keeps the socket open and sends nothing: reconnect after a silence
        const watchdog = setInterval(() => { if (Date.now() - this.lastEvent > 8_000) s.close() }, 1_000)
        await ended
        clearInterval(watchdog)
      } catch { /* daemon down or busy: retry */ }
      if (this.stopped) return
      this.reconnects++
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }

  private onMessage (m: MessageJson): void {
    this.lastEvent = Date.now()
    const key = `${m.origin}/${m.seq}`
    if (m.seq <= (this.confirmed.get(m.origin) ?? 0)) this.duplicatesAfterAck++
    const last = this.lastSeen.get(m.origin)
    if (last != null && m.seq <= last) this.orderViolations++
    this.lastSeen.set(m.origin, m.seq)
    this.delivered.add(key)
    this.pendingAck.set(m.origin, Math.max(this.pendingAck.get(m.origin) ?? 0, m.seq))
    void this.flushAcks()
  }

  /** acks are cumulative per origin: send the newest delivered seq of each origin, one call at a time */
  private async flushAcks (): Promise<void> {
    if (this.acking) return
    this.acking = true
    try {
      while (this.pendingAck.size > 0 && !this.stopped) {
        const [origin, seq] = this.pendingAck.entries().next().value as [string, number]
        this.pendingAck.delete(origin)
        try {
          await this.api.ack(this.topic, CONSUMER, origin, seq)
          if (seq > (this.confirmed.get(origin) ?? 0)) this.confirmed.set(origin, seq)
        } catch { /* the stream redelivers what was not acked */ }
      }
    } finally { this.acking = false }
  }

  stop (): void { this.stopped = true; this.close?.() }
}

export class Checker {
  readonly acked = new Map<string, AckedPublish>()
  publishFailures = 0
  private publishing = false
  private readonly loops: Array<Promise<void>> = []
  private consumers: ConsumerWatch[] = []
  private giveUpAt = Infinity

  constructor (private readonly apis: NodeApi[], private readonly topic: string, private readonly runId: string) {}

  startConsumers (): void {
    this.consumers = this.apis.map(a => new ConsumerWatch(a, this.topic))
    for (const c of this.consumers) c.start()
  }

  /** one sequential publisher per node, `ratePerNode` messages a second, each retried until acked */
  startPublishing (ratePerNode: number): void {
    this.publishing = true
    this.apis.forEach((api, via) => this.loops.push(this.publishLoop(api, via, 1000 / ratePerNode)))
  }

  private async publishLoop (api: NodeApi, via: number, intervalMs: number): Promise<void> {
    for (let k = 1; this.publishing; k++) {
      const payload = `${this.runId} h${via} #${k}`
      const t0 = Date.now()
      while (Date.now() < this.giveUpAt) {
        try {
          // idempotency keys are printable ASCII without spaces: a retry of this payload reuses the same key
          const r = await api.publish(this.topic, payload, payload.replace(/\s+/g, '_'))
          this.acked.set(payload, { payload, via, origin: r.origin, seq: r.seq })
          break
        } catch {
          this.publishFailures++
          await new Promise(resolve => setTimeout(resolve, 300))
        }
      }
      await new Promise(resolve => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - t0))))
    }
  }

  /** stops new publishes; one still being retried gets until `graceMs` to be acked */
  async stopPublishing (graceMs: number): Promise<void> {
    this.publishing = false
    this.giveUpAt = Date.now() + graceMs
    await Promise.all(this.loops)
  }

  /** which acked messages each node's history lacks (and its payload duplicates) */
  async histories (): Promise<Array<{ missing: number, republished: number } | undefined>> {
    return await Promise.all(this.apis.map(async api => {
      try {
        const h = await api.history(this.topic)
        const have = new Map<string, string>()
        const payloads = new Map<string, number>()
        for (const m of h) {
          have.set(`${m.origin}/${m.seq}`, m.payload)
          payloads.set(m.payload, (payloads.get(m.payload) ?? 0) + 1)
        }
        let missing = 0
        for (const a of this.acked.values()) if (have.get(`${a.origin}/${a.seq}`) !== a.payload) missing++
        const republished = [...payloads.values()].filter(n => n > 1).length
        return { missing, republished }
      } catch { return undefined }
    }))
  }

  consumersMissing (): number[] {
    return this.consumers.map(c => [...this.acked.values()].filter(a => !c.delivered.has(`${a.origin}/${a.seq}`)).length)
  }

  /** polls until every node holds every acked message (history) and every consumer got them all */
  async waitConverged (timeoutMs: number, since: number): Promise<{ historyMs?: number, consumersMs?: number }> {
    const deadline = Date.now() + timeoutMs
    let historyMs: number | undefined
    let consumersMs: number | undefined
    while (Date.now() < deadline) {
      if (historyMs == null) {
        const h = await this.histories()
        if (h.every(x => x != null && x.missing === 0)) historyMs = Date.now() - since
      }
      if (consumersMs == null && this.consumersMissing().every(n => n === 0)) consumersMs = Date.now() - since
      if (historyMs != null && consumersMs != null) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    return { historyMs, consumersMs }
  }

  async verdicts (): Promise<NodeVerdict[]> {
    const h = await this.histories()
    const cm = this.consumersMissing()
    return this.consumers.map((c, node) => ({
      node,
      missingInHistory: h[node]?.missing ?? this.acked.size,
      missingInConsumer: cm[node],
      duplicatesAfterAck: c.duplicatesAfterAck,
      orderViolations: c.orderViolations,
      republished: h[node]?.republished ?? 0,
      gaps: c.gaps,
      reconnects: c.reconnects,
    }))
  }

  stopConsumers (): void { for (const c of this.consumers) c.stop() }
}
