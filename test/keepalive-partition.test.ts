// A silent partition of an idle connection: two real daemons in network namespaces, connected and quiet,
// then one host moved to a second bridge (links stay up, packets vanish). Keep-alive no longer pings quiet
// connections every 3 s (keepalive.ts): the kernel's TCP keep-alive probes them from 3 s of idle, so both
// sides must still drop the dead connection in about 13 s (the 30 s idle ping would take 40 s or more), and reconnect once the partition heals.
// Needs root (ip netns); CI runs as root.
import { it, expect } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { Cluster } from '../src/lan/cluster.js'
import { ownNamespaces } from '../src/lan/netns.js'

describeAsRoot('keep-alive across a silent partition (network namespaces, needs root)', 'create network namespaces', () => {
  it('an idle connection across a silent partition is closed on both sides within 20 s, and reforms after the heal', async () => {
    const c = new Cluster({ nodes: 2, topics: [] }) // no topic: no sync pulls, nothing on the connection
    let ok = false
    try {
      await c.create()
      await c.meshed(30_000, 60_000)
      await new Promise(resolve => setTimeout(resolve, 4_000)) // quiet: past the kernel's 3 s idle
      const t0 = Date.now()
      c.lan.partition([1])
      let closedMs: number | undefined
      while (Date.now() - t0 < 20_000) {
        const counts = await Promise.all(c.apis.map(async a => (await a.peers()).length))
        if (counts.every(n => n === 0)) { closedMs = Date.now() - t0; break }
        await new Promise(resolve => setTimeout(resolve, 500))
      }
      console.log(`keep-alive partition: both sides dropped the connection ${String(closedMs)} ms after the partition`)
      expect(closedMs, `a side still listed its peer 20 s into the partition (logs in ${c.work})`).toBeDefined()
      c.lan.heal()
      expect(await c.meshed(10_000, 30_000)).toBe('full mesh')
      ok = true
    } finally {
      await c.cleanup(!ok)
    }
    expect(ownNamespaces()).toEqual([])
  }, 120_000)
})
