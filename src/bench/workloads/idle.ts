// Start-up time and idle memory of one node (one per process: RSS is the whole process).
import { performance } from 'node:perf_hooks'
import { sleep, type Impl } from '../cluster.js'
import { startGossipdNode, stopGossipdNode } from '../gossipd-cluster.js'
import { startRawHost } from '../raw-gossipsub.js'
import { MB } from '../stats.js'

export async function idle (spec: { impl: Impl, idleSeconds: number }, processStart: number): Promise<Record<string, unknown>> {
  const t0 = performance.now()
  let stop: () => Promise<void>
  if (spec.impl === 'gossipd') {
    const node = await startGossipdNode()
    stop = async () => { await stopGossipdNode(node) }
  } else {
    const host = await startRawHost()
    host.services.pubsub.subscribe('bench')
    stop = async () => { await host.stop() }
  }
  const startMs = performance.now() - t0
  const readyMs = performance.now() - processStart
  await sleep(spec.idleSeconds * 1000)
  const rss = process.memoryUsage()
  await stop()
  return { impl: spec.impl, startMs, readyFromProcessStartMs: readyMs, idleSeconds: spec.idleSeconds, rssMB: rss.rss / MB, heapUsedMB: rss.heapUsed / MB }
}
