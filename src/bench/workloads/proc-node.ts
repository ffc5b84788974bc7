// One node of a one-process-per-node scenario (latency-procs, throughput-procs), raw or gossipd, on
// 127.0.0.1: dials the peers it is given, subscribes to the bench topic, and can tell when it is meshed.
import { multiaddr } from '@multiformats/multiaddr'
import { createInterface } from 'node:readline'
import { meshPeers, meshTarget, TOPIC, until, sleep, type Impl } from '../cluster.js'

export interface ProcNode { addr: string, publish: (p: Uint8Array) => Promise<unknown>, onDeliver: (f: (payload: Uint8Array) => void) => void, meshed: () => boolean, stop: () => Promise<void> }

export async function startProcNode (spec: { impl: Impl, nodes: number, peers: string[] }): Promise<ProcNode> {
  const want = meshTarget(spec.nodes)
  if (spec.impl === 'raw') {
    const { startRawHost, rawLoopbackAddr } = await import('../raw-gossipsub.js')
    const host = await startRawHost()
    host.services.pubsub.subscribe(TOPIC)
    for (const p of spec.peers) await host.dial(multiaddr(p))
    return {
      addr: rawLoopbackAddr(host),
      publish: async p => await host.services.pubsub.publish(TOPIC, p),
      onDeliver: f => host.services.pubsub.addEventListener('message', evt => { if (evt.detail.topic === TOPIC) f(evt.detail.data) }),
      meshed: () => host.getPeers().length >= spec.nodes - 1 && meshPeers(host.services.pubsub, TOPIC) >= want,
      stop: async () => await host.stop(),
    }
  }
  const { startGossipdNode, stopGossipdNode, loopbackAddr, hostOf } = await import('../gossipd-cluster.js')
  const node = await startGossipdNode({ peers: spec.peers })
  return {
    addr: loopbackAddr(node),
    publish: async p => await node.publish(TOPIC, p),
    onDeliver: f => { node.consume(TOPIC, { from: 'beginning' }).on('message', m => f(m.payload)).start() },
    meshed: () => node.peers().length >= spec.nodes - 1 && meshPeers(hostOf(node).services.pubsub, TOPIC) >= want,
    stop: async () => { await stopGossipdNode(node) },
  }
}

/**
 * The start handshake with the parent over stdin: announce `ready`, wait for "go <epoch ms>", give the mesh
 * until then to form, and resolve at that moment. Other lines go to `onLine`; `closed` resolves when the
 * parent closes stdin. stdin closing before "go" means the parent gave up (another node failed to start):
 * the wait rejects, so the process exits instead of lingering.
 */
export async function startSignal (node: ProcNode, ready: (info: Record<string, unknown>) => void, onLine: (line: string) => void = () => {}): Promise<{ startAt: number, meshedAtStart: boolean, closed: Promise<void> }> {
  const lines = createInterface({ input: process.stdin })
  const closed = new Promise<void>(resolve => lines.on('close', resolve))
  const go = new Promise<number>((resolve, reject) => {
    lines.on('line', l => { if (l.startsWith('go ')) resolve(Number(l.slice(3))); else onLine(l) })
    lines.on('close', () => reject(new Error('stdin closed before "go"')))
  })
  ready({ addr: node.addr })
  const startAt = await go
  await until(() => node.meshed(), Math.max(0, startAt - Date.now()))
  const meshedAtStart = node.meshed()
  await sleep(Math.max(0, startAt - Date.now()))
  return { startAt, meshedAtStart, closed }
}
