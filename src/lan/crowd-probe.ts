// A crowd of idle strangers against an honest node, for real: one device (two source IPs) connects to it
// under many fresh peer ids (keys are free), completes Noise and yamux, subscribes to the topic and then only
// answers pings; an honest newcomer then dials the node as its static peer. Reports (JSON on stdout) whether
// the newcomer got connected and received a message published after it joined.
// Must run inside a network namespace of its own with ADDRS on lo (the test creates it: nothing leaves it);
// mDNS is off. Used by test/crowd-eviction.test.ts; by hand: node dist/lan/crowd-probe.js [idsPerIp] [low] [high].
import '../polyfill.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { GossipNode } from '../core/node.js'

/** the honest node, the attacker's source IPs, and the newcomer */
export const CROWD_ADDRS = { honest: '10.9.0.1', attackers: ['10.9.0.2', '10.9.0.3'], newcomer: '10.9.0.9' }

export interface CrowdResult {
  /** attacker peer ids that dialed, and how many of them the honest node held before the newcomer came */
  attackers: number
  heldBefore: number
  newcomerConnected: boolean
  /** how long the newcomer took to get connected (measured, for the record; not asserted) */
  connectedMs: number
  /** the newcomer received a message the honest node published after the newcomer was connected */
  delivered: boolean
  /** at the end */
  honestPeers: number
  attackersConnected: number
}

async function attacker (localAddress: string): Promise<Libp2p<{ pubsub: ReturnType<ReturnType<typeof gossipsub>> }>> {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: [] },
    // (passed on to net.connect, which binds the source address; the option type leaves it out)
    transports: [tcp({ dialOpts: { localAddress } as Parameters<typeof tcp>[0] extends { dialOpts?: infer D } ? D : never })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    connectionManager: { maxConnections: 1_000 },
    services: { identify: identify(), ping: ping(), pubsub: gossipsub({}) },
  })
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** bounded wait: true once check() holds, false after ms */
async function until (check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(50)
  }
  return true
}

export async function crowdProbe (perIp = 8, bounds = { low: 2, high: 4 }, waitMs = 45_000): Promise<CrowdResult> {
  const dirs: string[] = []
  const nodes: GossipNode[] = []
  const crowd: Array<Awaited<ReturnType<typeof attacker>>> = []
  const node = async (ip: string, peers: string[] = []): Promise<GossipNode> => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipd-crowd-'))
    dirs.push(dir)
    const n = await new GossipNode({
      dataDir: dir, listen: [`/ip4/${ip}/tcp/0`], mdns: false, topics: ['t'], peers, synchronous: 'NORMAL',
      connections: bounds, syncIntervalMs: 1_000,
    }).start()
    nodes.push(n)
    return n
  }
  try {
    const h = await node(CROWD_ADDRS.honest)
    const target = multiaddr(h.addresses.find(a => a.includes(`/${CROWD_ADDRS.honest}/`))!)
    for (const ip of CROWD_ADDRS.attackers) {
      for (let i = 0; i < perIp; i++) {
        const a = await attacker(ip)
        a.services.pubsub.subscribe('t')
        crowd.push(a)
      }
    }
    // one by one, as fast as the handshakes go; refused ones are simply left refused
    for (const a of crowd) await a.dial(target, { signal: AbortSignal.timeout(5_000) }).catch(() => {})
    const open = (): number => crowd.filter(a => a.getConnections().some(c => c.status === 'open')).length
    // settled: the node holds what it will hold of the crowd
    let last = -1
    await until(() => { const n = open(); const same = n === last; last = n; return same }, 5_000)
    await sleep(1_000)
    const heldBefore = open()
    const n = await node(CROWD_ADDRS.newcomer, [target.toString()])
    const connected = (): boolean => n.peers().some(p => p.id === h.peerId)
    const joining = Date.now()
    const newcomerConnected = await until(connected, waitMs)
    const connectedMs = Date.now() - joining
    let delivered = false
    if (newcomerConnected) {
      const got: string[] = []
      n.consume('t', { from: 'beginning' }).on('message', m => got.push(new TextDecoder().decode(m.payload))).start()
      const deadline = Date.now() + 20_000
      for (let i = 0; !delivered && Date.now() < deadline; i++) {
        await h.publish('t', `after-join-${i}`)
        delivered = await until(() => got.some(m => m.startsWith('after-join-')), 500)
      }
    }
    return { attackers: crowd.length, heldBefore, newcomerConnected, connectedMs, delivered, honestPeers: h.peers().length, attackersConnected: open() }
  } finally {
    await Promise.allSettled(crowd.map(async a => await a.stop()))
    await Promise.allSettled(nodes.map(async n => await n.stop()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  crowdProbe(Number(process.argv[2] ?? 8), { low: Number(process.argv[3] ?? 2), high: Number(process.argv[4] ?? 4) }).then(r => {
    process.stdout.write(JSON.stringify(r) + '\n')
    process.exit(0)
  }, err => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}
