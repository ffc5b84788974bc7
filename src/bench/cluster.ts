// A benchmark cluster: N nodes in this process on 127.0.0.1, fully meshed by dialing each other, one
// topic; node 0 publishes, nodes 1..N-1 subscribe. Two implementations behind one surface so every
// scenario runs the same code against raw gossipsub (raw-gossipsub.ts) and gossipd (gossipd-cluster.ts).
// The central-broker references (mqtt-cluster.ts, nats-cluster.ts) fit the same surface: 1 publishing
// client and N-1 subscribing clients of a broker the parent started (broker-process.ts).

export const TOPIC = 'bench'

export type Impl = 'raw' | 'gossipd'

/** a central broker the bench compares against (reference rows, not a side) */
export type Broker = 'mosquitto' | 'nats'

export interface Cluster {
  readonly impl: Impl | Broker
  readonly size: number
  /** publish from node 0; raw resolves once handed to gossipsub, gossipd once committed to disk, a broker once it acked */
  publish: (payload: Uint8Array) => Promise<unknown>
  /** messages delivered so far to subscriber i (0-based over nodes 1..N-1) */
  delivered: number[]
  /** called on every delivery to a subscriber: payload as delivered */
  onDeliver?: (sub: number, payload: Uint8Array) => void
  /** peer:disconnect and connection:close events seen by any node since the cluster was ready */
  drops: { peerDisconnect: number, connectionClose: number }
  /** implementation-specific counters (how messages arrived, gossip skipped, ...) */
  extra: () => Record<string, number>
  stop: () => Promise<void>
}

export function minDelivered (c: Cluster): number {
  let m = Infinity
  for (const d of c.delivered) if (d < m) m = d
  return m === Infinity ? 0 : m
}

/** 1 KiB (or `size`) payload whose first 4 bytes carry the message index */
export function payloadFor (i: number, size: number): Uint8Array {
  const p = new Uint8Array(Math.max(size, 4))
  new DataView(p.buffer).setUint32(0, i)
  p.fill(0x61, 4)
  return p
}

export function indexOf (payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0)
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Poll until check() or the deadline; returns whether check() became true. */
export async function until (check: () => boolean, timeoutMs: number, pollMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(pollMs)
  }
  return true
}

/** A cluster of `size` nodes; a broker's needs the URL of a running broker (clients only, the broker is the parent's). */
export async function createCluster (impl: Impl | Broker, size: number, opts: { synchronous?: 'FULL' | 'NORMAL', brokerUrl?: string } = {}): Promise<Cluster> {
  if (impl === 'raw') return await (await import('./raw-gossipsub.js')).createRawCluster(size)
  if (impl === 'mosquitto' || impl === 'nats') {
    if (opts.brokerUrl == null) throw new Error(`${impl} cluster: no broker URL`)
    if (impl === 'mosquitto') return await (await import('./mqtt-cluster.js')).createMqttCluster(opts.brokerUrl, size)
    return await (await import('./nats-cluster.js')).createNatsCluster(opts.brokerUrl, size)
  }
  return await (await import('./gossipd-cluster.js')).createGossipdCluster(size, opts)
}

/** mesh peers each node must have before a scenario starts: everyone else, or gossipsub's Dlo (4) */
export function meshTarget (size: number): number {
  return Math.min(size - 1, 4)
}

/** How many messages a fixed-rate scenario sends: the warm-up (not measured) first, then the measured ones. */
export function rateCounts (spec: { rate: number, seconds: number, warmupSeconds?: number }): { warm: number, count: number } {
  const warm = Math.round(spec.rate * (spec.warmupSeconds ?? 1))
  return { warm, count: warm + Math.round(spec.rate * spec.seconds) }
}

/** Call issue(0 .. count-1) at `rate` per second, catching up after any stall; `clock` in ms. */
export async function publishAtRate (count: number, rate: number, issue: (i: number) => void, clock: () => number): Promise<void> {
  const t0 = clock()
  let issued = 0
  while (issued < count) {
    const due = Math.min(count, Math.floor((clock() - t0) * rate / 1000) + 1)
    while (issued < due) issue(issued++)
    await sleep(Math.max(0, t0 + issued * 1000 / rate - clock()))
  }
}

/** peers in our gossipsub mesh for a topic (a method of the implementation, not of the GossipSub interface) */
export function meshPeers (pubsub: unknown, topic: string): number {
  return (pubsub as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic).length
}
