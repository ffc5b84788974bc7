// Scale: N real daemons (default N = 5, 10, 20, 50; --scale-nodes), one per network namespace on a private
// bridge, mDNS only, default connection bounds. Each N is one src/bench/scale-run.ts child in the hub
// namespace (see there for what it measures). Needs root; left out of --quick (50 daemons on this machine).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Lan, removeStaleLans } from '../../lan/netns.js'
import { isRoot } from '../../lan/isolation.js'
import type { ScaleRunArgs, ScaleRunResult } from '../scale-run.js'
import type { Scenario } from '../scenario.js'
import { row, type ScenarioRow } from '../table.js'

export interface ScaleOptions { low?: number, high?: number, idleSeconds?: number, settleSeconds?: number, messages?: number, ratePerSec?: number, catchup?: number, waitMs?: number, keepLogs?: boolean }

/** the compiled child (from the sources, e.g. under vitest, the one in dist/: run `npm run build`) */
function runFile (): string {
  const beside = fileURLToPath(new URL('../scale-run.js', import.meta.url))
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../../dist/bench/scale-run.js', import.meta.url))
}

/** One swarm of n daemons (+1 late joiner when catchup > 0) on a fresh simulated LAN, removed afterwards. */
export async function runScale (n: number, o: ScaleOptions = {}): Promise<ScaleRunResult> {
  removeStaleLans()
  const catchup = o.catchup ?? 10_000
  const lan = new Lan(n + (catchup > 0 ? 1 : 0))
  const work = mkdtempSync(join(tmpdir(), 'gossipd-scale-'))
  let failed = true
  try {
    lan.create()
    const hubIp = lan.addHubAddress()
    const args: ScaleRunArgs = {
      bin: fileURLToPath(new URL('../../../bin/gossipd.js', import.meta.url)),
      work,
      hosts: lan.hosts.map(h => ({ ns: h.ns, ip: h.ip })),
      nodes: n,
      hubIp,
      low: o.low,
      high: o.high,
      idleSeconds: o.idleSeconds ?? 20,
      settleSeconds: o.settleSeconds ?? 30,
      messages: o.messages ?? 100,
      ratePerSec: o.ratePerSec ?? 10,
      catchup,
      waitMs: o.waitMs ?? 180_000,
    }
    const child = lan.spawnInHub(process.execPath, [runFile(), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout?.on('data', d => { out += String(d) })
    child.stderr?.on('data', d => { err += String(d) })
    // bounded: the child gives up on each wait after waitMs; this is the last resort
    const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000)
    const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
    clearTimeout(timer)
    const line = out.trim().split('\n').pop() ?? ''
    if (code !== 0 || line === '') {
      let partial: Partial<ScaleRunResult> = {}
      try { partial = JSON.parse(readFileSync(join(work, 'partial.json'), 'utf8')) as ScaleRunResult } catch { /* killed before the first figure */ }
      return { ...partial, nodes: n, error: `scale run exited with ${String(code)} (killed at the deadline?): ${err.trim().slice(-500)}; figures so far kept` }
    }
    const r = JSON.parse(line) as ScaleRunResult
    failed = r.error != null
    if (failed) r.error = `${r.error ?? ''} (daemon logs in ${work})`
    return r
  } finally {
    lan.destroy()
    if (!failed && o.keepLogs !== true) rmSync(work, { recursive: true, force: true })
  }
}

export const scale: Scenario = {
  name: 'scale',
  title: 'N = 5, 10, 20, 50 daemons in network namespaces, mDNS only: connectivity, connections, idle CPU/RSS, mDNS, spread, catch-up (root)',
  quick: false,
  run: async ({ o, results }) => {
    if (!o.sides.includes('gossipd')) return []
    const rows: ScenarioRow[] = []
    const all: ScaleRunResult[] = []
    results.scale = all
    for (const n of o.scaleNodes) {
      const s = `scale N=${n}, netns, mDNS only`
      if (!isRoot()) { rows.push(row(s, 'skipped: needs root (network namespaces)', null, null)); continue }
      process.stderr.write(`  scale [gossipd] N=${n} ...`)
      const t = Date.now()
      const r = await runScale(n, { ratePerSec: o.scaleRate }).catch((err: Error) => ({ nodes: n, error: err.message }) as ScaleRunResult)
      process.stderr.write(r.error != null ? ` FAILED: ${r.error}\n` : ` ${((Date.now() - t) / 1000).toFixed(0)} s\n`)
      all.push(r)
      if (r.error != null) { rows.push(row(s, `FAILED: ${r.error}`, null, null)); continue }
      rows.push(
        row(s, 'start -> connected graph ms', null, r.connectedMs),
        row(s, 'start -> topic mesh full ms', null, r.meshFullMs),
        row(s, 'connections per node mean', null, r.connectionsMean, 1),
        row(s, 'connections per node max', null, r.connectionsMax, 0, { text: '<= high mark 16', met: r.connectionsMax != null ? r.connectionsMax <= 16 : null, value: r.connectionsMax }),
        row(s, 'CPU % per node, first 20 s after mesh full', null, r.settlingCpuPctPerNode, 2),
        row(s, 'idle CPU % per node (20 s, from 30 s after)', null, r.idleCpuPctPerNode, 2, { text: '< 1% of a core', met: r.idleCpuPctPerNode != null ? r.idleCpuPctPerNode < 1 : null, value: r.idleCpuPctPerNode }),
        row(s, 'RSS MB per node mean', null, r.rssMBMean, 1, { text: '< 100 MB', met: r.rssMBMean != null ? r.rssMBMean < 100 : null, value: r.rssMBMean }),
        row(s, 'private (anon) MB per node mean', null, r.anonMBMean, 1),
        row(s, 'mDNS packets/s on the bridge (idle)', null, r.mdnsPacketsPerSec, 2),
        row(s, 'connections opened per node (idle)', null, r.idleConnectionsOpenedPerNode, 1),
        row(s, 'connections opened per node (while messages spread)', null, r.spreadConnectionsOpenedPerNode, 1),
        row(s, 'anti-entropy interval s, mean (idle end)', null, r.idleSyncIntervalSecondsMean, 1),
        row(s, `messages at all N of ${r.sent ?? 0} (${o.scaleRate}/s)`, null, r.delivered, 0, { text: 'all', met: r.delivered === r.sent, value: r.delivered }),
        row(s, 'one message to all N p50 ms', null, r.spreadP50Ms),
        row(s, 'one message to all N p99 ms', null, r.spreadP99Ms, 0, { text: '< 1000 ms', met: r.spreadP99Ms != null ? r.spreadP99Ms < 1000 : null, value: r.spreadP99Ms }),
        row(s, 'CPU % per node while messages spread', null, r.spreadCpuPctPerNode, 2),
        row(s, 'each copy, publish -> node p50 / p99 ms', null, r.deliveryP50Ms != null ? `${r.deliveryP50Ms} / ${r.deliveryP99Ms ?? '?'}` : null),
        row(s, 'last node to get a message (node: times)', null, r.lastNodes ?? null),
        row(s, 'copies by sync, not gossip %', null, r.deliveriesBySyncPct, 1),
        row(s, 'copies asked for by IWANT (after a heartbeat IHAVE), not pushed %', null, r.deliveriesByIwantPct, 1),
        row(s, 'gossip copies received per message needed', null, r.gossipCopiesPerDelivery, 1),
        row(s, 'late joiner catch-up 10,000 msgs ms', null, r.catchupMs),
      )
    }
    return rows
  },
}
