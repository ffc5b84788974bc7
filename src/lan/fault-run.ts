// One fault run: start N daemons on the simulated LAN, publish through every one of them at a steady rate
// while durable consumers read every one, inject the fault, stop publishing when it ends, then measure how
// long until every daemon holds every acknowledged message and compare (see checker.ts).
import { Cluster, TOPIC } from './cluster.js'
import { Checker, type NodeVerdict } from './checker.js'
import { FAULT_DEFS, type FaultName, type Profile } from './faults.js'

export interface FaultResult {
  fault: FaultName
  nodes: number
  description: string
  ok: boolean
  acked: number
  publishFailures: number
  /** acked messages missing from some node's history, summed over nodes */
  lost: number
  /** acked messages some node's durable consumer never delivered, summed over nodes */
  lostInConsumers: number
  duplicatesAfterAck: number
  orderViolations: number
  /** payloads stored twice (a retried publish whose first answer was lost): not a loss, reported apart */
  republished: number
  /** from the end of the fault until every node's history held every acked message (null: never) */
  convergenceMs: number | null
  /** ... and every node's durable consumer had delivered them all */
  consumersConvergedMs: number | null
  notes: string[]
  perNode: NodeVerdict[]
  error?: string
  /** the run's folder (data dirs, logs; removed unless kept) */
  workDir: string
  logsDir?: string
}

export interface FaultRunOptions {
  nodes: number
  profile: Profile
  /** messages per second published through each node */
  ratePerNode?: number
  log?: (line: string) => void
  keepLogs?: boolean
}

export async function runFault (name: FaultName, opts: FaultRunOptions): Promise<FaultResult> {
  const def = FAULT_DEFS[name]
  const n = opts.nodes
  if (!Number.isInteger(n) || n < 3 || n > 20) throw new Error('--nodes must be 3 to 20 for a fault run')
  const log = opts.log ?? (() => {})
  const t0 = Date.now()
  const notes: string[] = []
  const note = (s: string): void => {
    const line = `[${((Date.now() - t0) / 1000).toFixed(1)}s] ${name}: ${s}`
    notes.push(line)
    log(line)
  }
  const cluster = new Cluster({ nodes: n, ...def.cluster?.(n) })
  const checker = new Checker(cluster.apis, TOPIC, `run${t0.toString(36)}`)
  const onSignal = (): void => { cluster.killAllNow(); process.exit(130) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const result: FaultResult = {
    fault: name, nodes: n, description: def.describe(n), ok: false, acked: 0, publishFailures: 0, lost: 0, lostInConsumers: 0,
    duplicatesAfterAck: 0, orderViolations: 0, republished: 0, convergenceMs: null, consumersConvergedMs: null, notes, perNode: [], workDir: cluster.work,
  }
  let failed = true
  try {
    await cluster.create()
    const mesh = await cluster.meshed(20_000, 60_000)
    note(`${n} daemons found each other by mDNS: ${mesh}`)
    checker.startConsumers()
    checker.startPublishing(opts.ratePerNode ?? 5)
    await new Promise(resolve => setTimeout(resolve, opts.profile.warmupMs))
    note(`fault begins: ${def.describe(n)}`)
    await def.run(cluster, opts.profile, note)
    const faultEnd = Date.now()
    note('fault ends; publishing stops')
    await checker.stopPublishing(opts.profile.publishGraceMs)
    const conv = await checker.waitConverged(opts.profile.convergeTimeoutMs, faultEnd)
    result.convergenceMs = conv.historyMs ?? null
    result.consumersConvergedMs = conv.consumersMs ?? null
    note(`converged: history ${fmt(result.convergenceMs)}, consumers ${fmt(result.consumersConvergedMs)} after the fault`)
    result.perNode = await checker.verdicts()
    result.acked = checker.acked.size
    result.publishFailures = checker.publishFailures
    for (const v of result.perNode) {
      result.lost += v.missingInHistory
      result.lostInConsumers += v.missingInConsumer
      result.duplicatesAfterAck += v.duplicatesAfterAck
      result.orderViolations += v.orderViolations
      result.republished += v.republished
    }
    result.ok = result.acked > 0 && result.lost === 0 && result.lostInConsumers === 0 && result.duplicatesAfterAck === 0 && result.orderViolations === 0
    failed = !result.ok
  } catch (err) {
    result.error = (err as Error).message
    note(`FAILED: ${result.error}`)
  } finally {
    checker.stopConsumers()
    await checker.stopPublishing(0)
    const keep = failed || opts.keepLogs === true
    await cluster.cleanup(keep)
    if (keep) result.logsDir = cluster.work
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
  return result
}

export function fmt (ms: number | null): string {
  return ms == null ? 'never' : `${(ms / 1000).toFixed(1)}s`
}

/** the one-line summary of a fault run */
export function summary (r: FaultResult): string {
  return `${r.ok ? 'PASS' : 'FAIL'} fault=${r.fault} nodes=${r.nodes} acked=${r.acked} lost=${r.lost} lostInConsumers=${r.lostInConsumers} ` +
    `dupAfterAck=${r.duplicatesAfterAck} orderViolations=${r.orderViolations} republished=${r.republished} ` +
    `converged=${fmt(r.convergenceMs)} consumers=${fmt(r.consumersConvergedMs)}${r.error != null ? ` error=${r.error}` : ''}${r.logsDir != null ? ` logs=${r.logsDir}` : ''}`
}
