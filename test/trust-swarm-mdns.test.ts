// Build 1 of issue 10 with mDNS: two private swarms on one network (a namespace this test creates, loopback
// only) discover only their own members and exchange nothing across. Needs root; skips loudly without it.
import { it, expect } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { existsSync } from 'node:fs'
import { spawnInNewNetns } from '../src/lan/isolation.js'

const probe = new URL('../dist/lan/swarm-probe.js', import.meta.url).pathname

describeAsRoot('private swarms on one LAN (network namespace, needs root)', 'create a network namespace', () => {
  it('two swarm keys, mDNS on: each node connects only within its swarm and holds only its swarm\'s messages', async () => {
    expect(existsSync(probe), 'run `npm run build` first (npm test does)').toBe(true)
    const child = spawnInNewNetns(process.execPath, [probe], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', d => { out += String(d) })
    child.stderr!.on('data', d => { err += String(d) })
    const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
    expect(err).toBe('')
    expect(code).toBe(0)
    const { nodes } = JSON.parse(out.trim()) as { nodes: Array<{ swarm: string, peerSwarms: string[], holds: string[] }> }
    expect(nodes).toHaveLength(4)
    for (const n of nodes) {
      expect(n.peerSwarms).toEqual([n.swarm])
      expect(n.holds.sort()).toEqual([n.swarm, n.swarm])
    }
  }, 60_000)
})
