// One run of the scale scenario, as a child process inside the simulated LAN's hub namespace (the bridge
// has an address there, 10.77.0.254; each daemon's API, loopback-only, is reached through its unix socket),
// and hears the LAN's mDNS). Starts N daemons (one per host namespace, mDNS only), then measures:
// connectivity and topic-mesh time, connections, idle CPU and RSS from /proc, mDNS packets on the bridge,
// the time for each of M messages to reach all N, and a late joiner's catch-up. Prints one JSON line.
// Arguments: one JSON object (ScaleRunArgs). Started by scenarios/scale.ts and the scale test.
import '../polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer, connect, type Server } from 'node:net'
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GossipClient } from '../client/client.js'
import { percentile } from './stats.js'
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js'

export interface ScaleRunArgs {
  bin: string
  work: string
  /** host namespaces and addresses: the first `nodes` start at once, the next one is the late joiner */
  hosts: Array<{ ns: string, ip: string }>
  nodes: number
  hubIp: string
  low?: number
  high?: number
  idleSeconds: number
  /** wait this long after the topic mesh is full before the idle window (start-up work has settled) */
  settleSeconds: number
  messages: number
  ratePerSec: number
  catchup: number
  waitMs: number
}

export interface ScaleRunResult {
  nodes: number
  connectedMs?: number
  meshFullMs?: number
  connectionsMean?: number
  connectionsMax?: number
  /** CPU per node over the first idleSeconds after the topic mesh is full (start-up still settling) */
  settlingCpuPctPerNode?: number
  idleCpuPctPerNode?: number
  rssMBMean?: number
  rssMBMax?: number
  /** private (anonymous) memory per node: RSS without the node binary's file pages, which daemons on one host share */
  anonMBMean?: number
  mdnsPacketsPerSec?: number
  mdnsQueriesPerSec?: number
  /** connections each node opened during the idle window (churn resets anti-entropy's idle backoff) */
  idleConnectionsOpenedPerNode?: number
  /** connections opened per node while the messages spread (churn there costs every node CPU) */
  spreadConnectionsOpenedPerNode?: number
  /** copies that reached a node because it asked with IWANT after an IHAVE (heartbeat-paced), not pushed by its mesh */
  deliveriesByIwantPct?: number
  /** gossip copies a node received per message it needed (duplicates included) */
  gossipCopiesPerDelivery?: number
  /** background anti-entropy interval at the end of the idle window, mean over nodes (5 s base, 30 s backed off) */
  idleSyncIntervalSecondsMean?: number
  delivered?: number
  sent?: number
  spreadP50Ms?: number
  spreadP99Ms?: number
  /** of all deliveries at all nodes, the share that came by sync (%): gossip missed those */
  deliveriesBySyncPct?: number
  /** each copy's time from publish to that node's subscriber, over every (message, node) pair */
  deliveryP50Ms?: number
  deliveryP99Ms?: number
  /** how often the node that was last to get a message was the same one: the top three (node index: times last) */
  lastNodes?: string
  /** CPU per node while the messages spread (all daemons, from publish of the first to the last at all N) */
  spreadCpuPctPerNode?: number
  catchupMs?: number
  caughtUp?: number
  error?: string
}

const TOPIC = 'scale'

/** per sample (a name, or a name and labels), the sum of a daemon's /metrics lines that start with it: one scrape */
async function metrics (c: GossipClient, samples: string[]): Promise<number[]> {
  const res = await fetch(`${c.url}/metrics`, { headers: { authorization: `Bearer ${c.token}` }, signal: AbortSignal.timeout(20_000) })
  // a refused scrape must not read as zero
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}: ${(await res.text()).slice(0, 200)}`)
  const sums = samples.map(() => 0)
  for (const line of (await res.text()).split('\n')) {
    samples.forEach((sample, k) => {
      if (line.startsWith(sample) && (line[sample.length] === ' ' || line[sample.length] === '{' || sample.endsWith('}'))) sums[k] += Number(line.split(' ').pop())
    })
  }
  return sums
}

/** messages of TOPIC a daemon stored from sync pulls: what gossip did not bring it */
const SYNC_STORED = `gossipd_messages_stored_total{topic="${TOPIC}",source="sync"}`

/** read before and after the spread: what sync stored, connections opened, gossip asked for by IWANT, gossip copies received */
const SPREAD_SAMPLES = [SYNC_STORED, 'gossipd_peer_joins_total', 'gossipsub_iwant_promise_resolved_total', 'gossipsub_msg_received_prevalidation_total']

/** gossipsub's Dlo: a node with this many topic peers can fill its mesh */
const MESH_LOW = 4
/** daemons started at once */
const START_BATCH = 5

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

async function run (a: ScaleRunArgs, r: ScaleRunResult): Promise<void> {
  const daemons: ChildProcess[] = []
  const clients: GossipClient[] = []
  const dataDir = (i: number): string => join(a.work, `h${i}`)
  const start = (i: number): void => {
    mkdirSync(dataDir(i), { recursive: true })
    const logFd = openSync(join(a.work, `h${i}.log`), 'a')
    const bounds = [...(a.low != null ? ['--connections-low', String(a.low)] : []), ...(a.high != null ? ['--connections-high', String(a.high)] : [])]
    // `ip netns exec` execs the daemon, so the pid is the daemon's (read in /proc below)
    daemons[i] = spawn('ip', ['netns', 'exec', a.hosts[i].ns, process.execPath, ...DAEMON_NODE_FLAGS, a.bin, 'start', '--data', dataDir(i), '--listen', '/ip4/0.0.0.0/tcp/7421',
      '--api', `127.0.0.1:${17420 + i}`, '--api-socket', join(dataDir(i), 'api.sock'), '--topic', TOPIC, '--log-level', 'warn', ...bounds], { stdio: ['ignore', logFd, logFd] })
    closeSync(logFd)
  }
  const client = async (i: number): Promise<GossipClient> => {
    const deadline = Date.now() + a.waitMs
    while (!existsSync(join(dataDir(i), 'api.json'))) {
      if (daemons[i].exitCode != null) throw new Error(`daemon ${i} exited with ${String(daemons[i].exitCode)} (log ${join(a.work, `h${i}.log`)})`)
      if (Date.now() > deadline) throw new Error(`daemon ${i} not ready`)
      await sleep(100)
    }
    await forward(17420 + i, join(dataDir(i), 'api.sock'))
    return GossipClient.fromDataDir(dataDir(i), { timeoutMs: 20_000 })
  }
  // the API serves loopback only (and its unix socket): this process, in the hub namespace, reaches daemon i
  // at 127.0.0.1:17420+i, the address api.json names, through a pipe to that daemon's socket
  const forwarders: Server[] = []
  const forward = async (port: number, socketPath: string): Promise<void> => {
    const server = createServer(c => {
      const up = connect(socketPath)
      c.pipe(up).pipe(c)
      const close = (): void => { c.destroy(); up.destroy() }
      c.on('error', close); up.on('error', close)
    })
    forwarders.push(server)
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
  }
  const until = async (what: string, check: () => Promise<boolean>, everyMs = 500): Promise<number> => {
    const t = Date.now()
    const deadline = t + a.waitMs
    for (;;) {
      if (await check().catch(() => false)) return Date.now()
      if (Date.now() > deadline) throw new Error(`timed out after ${a.waitMs} ms waiting for ${what}`)
      await sleep(everyMs)
    }
  }
  const n = a.nodes
  // what is measured so far, also on disk: a run killed by the caller's deadline still leaves its figures
  const save = (): void => writeFileSync(join(a.work, 'partial.json'), JSON.stringify(r))
  const phase = async <T>(p: Promise<T>): Promise<T> => { const v = await p; save(); return v }
  try {
    // started a few at a time: 50 daemons loading at once on 2 cores starve everything (this process's
    // HTTP connects included); t0 is when the last one is up, so the times are the swarm's, not start-up's
    for (let next = 0; next < n;) {
      const batch = Array.from({ length: Math.min(START_BATCH, n - next) }, (_, k) => next + k)
      for (const i of batch) start(i)
      for (const i of batch) clients[i] = await client(i)
      next += batch.length
    }
    const t0 = Date.now()
    const ids: string[] = []
    await until('every daemon to answer', async () => {
      for (let i = 0; i < n; i++) ids[i] ??= (await clients[i].status()).peerId
      return true
    })
    const index = new Map(ids.map((id, i) => [id, i]))
    let peerLists: Array<Array<{ id: string, topics: string[] }>> = []
    const poll = async (): Promise<void> => { peerLists = await Promise.all(clients.map(async c => await c.peers())) }
    // every node reaches every other over connections (a connected graph, not a full mesh)
    const connected = (): boolean => {
      const seen = new Set([0])
      const todo = [0]
      while (todo.length > 0) {
        const i = todo.pop()!
        for (const p of peerLists[i]) {
          const j = index.get(p.id)
          if (j != null && !seen.has(j)) { seen.add(j); todo.push(j) }
        }
      }
      return seen.size === n
    }
    r.connectedMs = await phase(until('every node to have a path to every other', async () => { await poll(); return connected() })) - t0
    // as full as the bounds allow: a node below Dlo topic peers but at its low mark does not dial more
    const meshWant = Math.min(n - 1, MESH_LOW, a.low ?? 8)
    r.meshFullMs = await phase(until('every node to have enough topic peers for its mesh', async () => {
      await poll()
      return peerLists.every(l => new Set(l.filter(p => p.topics.includes(TOPIC)).map(p => p.id)).size >= meshWant)
    })) - t0

    const cpu = (): number[] => daemons.slice(0, n).map(d => {
      const f = readFileSync(`/proc/${String(d.pid)}/stat`, 'utf8').split(') ')[1].split(' ')
      return Number(f[11]) + Number(f[12]) // utime + stime, in clock ticks (100 Hz)
    })
    const pctPerNode = (from: number[], to: number[], secs: number): number => to.reduce((s, v, i) => s + v - from[i], 0) / n / 100 / secs * 100
    // settling: the first idleSeconds after the mesh is full (identify, peer store, pruning, V8's first
    // memory-reducing GC), then nothing until settleSeconds have passed
    const s0 = cpu()
    const t1 = Date.now()
    await sleep(a.idleSeconds * 1000)
    r.settlingCpuPctPerNode = pctPerNode(s0, cpu(), (Date.now() - t1) / 1000)
    await sleep(Math.max(0, a.settleSeconds * 1000 - (Date.now() - t1)))

    // idle: CPU and mDNS over idleSeconds
    const mdns = countMdns(a.hubIp)
    /** per sample, its sum over the first n daemons (one scrape of each) */
    const swarmSums = async (samples: string[]): Promise<number[]> => (await Promise.all(clients.slice(0, n).map(async c => await metrics(c, samples))))
      .reduce((acc, v) => acc.map((x, k) => x + v[k]), samples.map(() => 0))
    const [joins0] = await swarmSums(['gossipd_peer_joins_total'])
    const c0 = cpu()
    const m0 = { ...mdns.count }
    const i0 = Date.now()
    await sleep(a.idleSeconds * 1000)
    const secs = (Date.now() - i0) / 1000
    const c1 = cpu()
    const [joins1, intervals] = await swarmSums(['gossipd_peer_joins_total', 'gossipd_sync_interval_seconds'])
    r.idleConnectionsOpenedPerNode = (joins1 - joins0) / n
    r.idleSyncIntervalSecondsMean = intervals / n
    r.mdnsPacketsPerSec = (mdns.count.all - m0.all) / secs
    r.mdnsQueriesPerSec = (mdns.count.queries - m0.queries) / secs
    mdns.close()
    r.idleCpuPctPerNode = pctPerNode(c0, c1, secs)
    const status = daemons.slice(0, n).map(d => readFileSync(`/proc/${String(d.pid)}/status`, 'utf8'))
    const mb = (field: string): number[] => status.map(st => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024)
    const rss = mb('VmRSS')
    r.rssMBMean = rss.reduce((s, v) => s + v, 0) / n
    r.rssMBMax = Math.max(...rss)
    r.anonMBMean = mb('RssAnon').reduce((s, v) => s + v, 0) / n
    save()

    // messages from node 0 at a steady rate; each one's time until the last node has it
    if (a.messages > 0) {
      const sentAt = new Map<string, number>()
      const seenBy = new Map<string, number>()
      const doneAt = new Map<string, number>()
      const copies: number[] = []
      const lastNode = new Map<number, number>()
      const spread0 = await swarmSums(SPREAD_SAMPLES)
      const sc0 = cpu()
      const st0 = Date.now()
      const streams = await Promise.all(clients.map(async c => await c.stream(TOPIC, { from: 'now' })))
      const readers = streams.map(async (s, node) => {
        for await (const m of s) {
          const k = m.payload
          const c = (seenBy.get(k) ?? 0) + 1
          seenBy.set(k, c)
          const sent = sentAt.get(k)
          if (sent != null) copies.push(Date.now() - sent)
          if (c === n) {
            doneAt.set(k, Date.now())
            lastNode.set(node, (lastNode.get(node) ?? 0) + 1)
          }
        }
      })
      for (let k = 0; k < a.messages; k++) {
        const payload = `m${k}`
        sentAt.set(payload, Date.now())
        await clients[0].publish(TOPIC, payload)
        await sleep(1000 / a.ratePerSec)
      }
      await until('every message at every node', async () => doneAt.size === a.messages, 200).catch(() => 0)
      r.spreadCpuPctPerNode = pctPerNode(sc0, cpu(), (Date.now() - st0) / 1000)
      for (const s of streams) s.close()
      await Promise.allSettled(readers)
      r.sent = a.messages
      r.delivered = doneAt.size
      const spreads = [...doneAt].map(([k, t]) => t - sentAt.get(k)!).sort((x, y) => x - y)
      r.spreadP50Ms = percentile(spreads, 50)
      r.spreadP99Ms = percentile(spreads, 99)
      copies.sort((x, y) => x - y)
      r.deliveryP50Ms = percentile(copies, 50)
      r.deliveryP99Ms = percentile(copies, 99)
      r.lastNodes = [...lastNode].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([node, times]) => `${node}: ${times}`).join(', ')
      const [bySync, joins, byIwant, received] = (await swarmSums(SPREAD_SAMPLES)).map((v, k) => v - spread0[k])
      const needed = a.messages * (n - 1)
      r.deliveriesBySyncPct = bySync / needed * 100
      r.deliveriesByIwantPct = byIwant / needed * 100
      r.gossipCopiesPerDelivery = received / needed
      r.spreadConnectionsOpenedPerNode = joins / n
      save()
    }
    await poll()
    const conns = peerLists.map(l => l.length)
    r.connectionsMean = conns.reduce((s, v) => s + v, 0) / n
    r.connectionsMax = Math.max(...conns)
    save()

    // a late joiner catches up on `catchup` messages published while it was away
    if (a.catchup > 0 && a.hosts.length > n) {
      const before = (await clients[0].topics()).find(t => t.topic === TOPIC)?.messages ?? 0
      const queue = Array.from({ length: a.catchup }, (_, k) => `c${k}`)
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let p = queue.shift(); p != null; p = queue.shift()) await clients[0].publish(TOPIC, p)
      }))
      const want = before + a.catchup
      const tj = Date.now()
      start(n)
      const late = await client(n)
      const done = await until(`the late joiner to hold ${want} messages`, async () => ((await late.topics()).find(t => t.topic === TOPIC)?.messages ?? 0) >= want, 200)
      r.catchupMs = done - tj
      r.caughtUp = (await late.topics()).find(t => t.topic === TOPIC)?.messages
    }
  } finally {
    for (const d of daemons) if (d != null && d.exitCode == null) d.kill('SIGTERM')
    await Promise.all(daemons.map(async d => {
      if (d == null || d.exitCode != null) return
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { d.kill('SIGKILL'); resolve() }, 8_000)
        d.once('exit', () => { clearTimeout(t); resolve() })
      })
    }))
    for (const f of forwarders) f.close()
  }
}

/** Counts mDNS packets on the bridge: a socket in the hub joined to the mDNS group on the bridge's address. */
function countMdns (hubIp: string): { count: { all: number, queries: number }, close: () => void } {
  const count = { all: 0, queries: 0 }
  const sock = createSocket({ type: 'udp4', reuseAddr: true })
  sock.on('message', msg => {
    count.all++
    if (msg.length > 2 && (msg[2] & 0x80) === 0) count.queries++
  })
  sock.on('error', () => {})
  sock.bind(5353, () => {
    sock.addMembership('224.0.0.251', hubIp)
  })
  return { count, close: () => sock.close() }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = JSON.parse(process.argv[2]) as ScaleRunArgs
  const r: ScaleRunResult = { nodes: args.nodes }
  run(args, r).catch((err: Error) => { r.error = err.message }).finally(() => {
    process.stdout.write(JSON.stringify(r) + '\n')
    process.exit(0)
  })
}
