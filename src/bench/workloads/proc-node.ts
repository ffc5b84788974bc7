// One node of a one-process-per-node scenario (latency-procs, throughput-procs), raw or gossipd, on
// 127.0.0.1: dials the peers it is given, subscribes to the bench topic, and can tell when it is meshed.
import { multiaddr } from '@multiformats/multiaddr'
import { meshPeers, meshTarget, TOPIC, type Impl } from '../cluster.js'

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
