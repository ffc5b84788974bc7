// mDNS discovery: src/lan/mdns-probe.ts with 3 nodes inside a fresh network namespace (multicast never
// leaves on a real interface), so it needs root; otherwise the row says it was skipped.
import { fileURLToPath } from 'node:url'
import { spawnInNewNetns, isRoot } from '../../lan/isolation.js'
import type { Scenario } from '../scenario.js'
import { row } from '../table.js'

interface Result { discoveredMs?: number, firstDeliveryMs?: number, skipped?: string, error?: string }

async function mdnsProbe (nodeFlags: string[]): Promise<Result> {
  const probe = fileURLToPath(new URL('../../lan/mdns-probe.js', import.meta.url))
  const child = spawnInNewNetns(process.execPath, [...nodeFlags, probe, '3'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { err += String(d) })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`mdns probe exited with ${String(code)}: ${err.trim()}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '') as Result
}

export const mdns: Scenario = {
  name: 'mdns',
  title: 'mDNS discovery of 3 nodes in a network namespace (gossipd only, needs root)',
  run: async ({ o, results }) => {
    if (!o.sides.includes('gossipd')) return []
    const s = 'mDNS discovery, 3 nodes, netns'
    let r: Result
    if (!isRoot()) {
      r = { skipped: 'needs root to create a network namespace' }
    } else {
      process.stderr.write('  mdns [gossipd] ...')
      r = await mdnsProbe(o.nodeFlags).catch((err: Error) => ({ error: err.message }))
      process.stderr.write(r.error != null ? ` FAILED: ${r.error}\n` : ' done\n')
    }
    results.mdns = r
    if (r.skipped != null) return [row(s, `skipped: ${r.skipped}`, null, null)]
    return [
      row(s, 'start -> all discovered ms', null, r.discoveredMs),
      row(s, 'start -> first delivery ms', null, r.firstDeliveryMs),
    ]
  },
}
