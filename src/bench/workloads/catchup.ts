// Catch-up: a seed node holds N messages published while the other node was offline; the other node then
// starts (empty, static peer = the seed) and pulls them by the sync protocol. Seed and catcher run in two
// processes (two machines in real life), so the catcher's numbers are its own.
import { performance } from 'node:perf_hooks'
import { payloadFor, TOPIC, sleep } from '../cluster.js'
import { startGossipdNode, stopGossipdNode, loopbackAddr, hostOf } from '../gossipd-cluster.js'

export interface SeedSpec { count: number, size: number, synchronous: 'FULL' | 'NORMAL', inflight?: number }

/** Publish `count` messages, report, then serve until stdin closes (bounded by maxServeMs). */
export async function catchupSeed (spec: SeedSpec, ready: (info: Record<string, unknown>) => void, maxServeMs = 600_000): Promise<void> {
  const node = await startGossipdNode({ synchronous: spec.synchronous })
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: spec.inflight ?? 256 }, async () => {
    while (next < spec.count) await node.publish(TOPIC, payloadFor(next++, spec.size))
  }))
  const publishMs = performance.now() - t0
  ready({ addr: loopbackAddr(node), publishMs, publishMsgPerSec: spec.count / (publishMs / 1000), synchronous: spec.synchronous, held: node.topics()[0].messages })
  await new Promise<void>(resolve => {
    process.stdin.on('end', resolve).on('close', resolve).resume()
    setTimeout(resolve, maxServeMs).unref()
  })
  await stopGossipdNode(node)
}

export interface CatchupSpec { seedAddr: string, count: number, synchronous?: 'FULL' | 'NORMAL', maxSeconds?: number }

export async function catchup (spec: CatchupSpec): Promise<Record<string, unknown>> {
  const t0 = performance.now()
  const node = await startGossipdNode({ synchronous: spec.synchronous, peers: [spec.seedAddr] })
  const startedMs = performance.now() - t0
  let connectedMs = NaN
  hostOf(node).addEventListener('peer:connect', () => { if (Number.isNaN(connectedMs)) connectedMs = performance.now() - t0 }, { once: true })
  const deadline = t0 + (spec.maxSeconds ?? 120) * 1000
  let syncs = 0
  node.on('sync', () => { syncs++ })
  const held = (): number => node.topics().find(t => t.topic === TOPIC)?.messages ?? 0
  let halfMs = NaN
  while (held() < spec.count && performance.now() < deadline) {
    if (Number.isNaN(halfMs) && held() >= spec.count / 2) halfMs = performance.now() - t0
    await sleep(5)
  }
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage()
  const got = held()
  const result = {
    count: spec.count,
    held: got,
    complete: got >= spec.count,
    synchronous: spec.synchronous ?? 'FULL',
    startMs: startedMs,
    connectedMs,
    halfMs,
    elapsedMs,
    msgPerSec: got / (elapsedMs / 1000),
    /** rate counted from the connection, without node start-up */
    msgPerSecFromConnect: got / ((elapsedMs - connectedMs) / 1000),
    syncPulls: syncs,
    /** CPU seconds of the catching-up process up to now (start-up included), user and system */
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
  }
  await stopGossipdNode(node)
  return result
}
