// The short version of every fault run (src/lan/faults.ts): 3 real daemons in network namespaces, mDNS only,
// a steady publish through every daemon's API, a durable consumer on each, one fault of a few seconds.
// Whatever the fault, every acknowledged publish must reach every daemon's history and durable consumer,
// with no duplicate after a successful ack and each origin in order. Needs root; CI runs as root.
import { it, expect } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { execFileSync } from 'node:child_process'
import { runFault } from '../src/lan/fault-run.js'
import { FAULTS, SHORT } from '../src/lan/faults.js'
import { ownNamespaces } from '../src/lan/netns.js'

const mountsUnder = (dir: string): string => execFileSync('cat', ['/proc/mounts'], { encoding: 'utf8' }).split('\n').filter(l => l.includes(` ${dir}/`)).join('\n')

describeAsRoot('fault runs on the simulated LAN (short versions, needs root)', 'create network namespaces and mount a tmpfs', () => {
  for (const fault of FAULTS) {
    it(`${fault}: no acked publish lost, no duplicate after ack, per-origin order, convergence`, async () => {
      const r = await runFault(fault, { nodes: 3, profile: SHORT, log: line => { if (process.env.GOSSIPD_LAN_VERBOSE != null) console.log(line) } })
      // what every fault must leave behind: nothing
      expect(ownNamespaces()).toEqual([])
      expect(mountsUnder(r.workDir)).toBe('')
      expect(r.error, r.notes.join('\n')).toBeUndefined()
      expect(r.acked).toBeGreaterThan(20)
      expect({ lost: r.lost, lostInConsumers: r.lostInConsumers, duplicatesAfterAck: r.duplicatesAfterAck, orderViolations: r.orderViolations })
        .toEqual({ lost: 0, lostInConsumers: 0, duplicatesAfterAck: 0, orderViolations: 0 })
      expect(r.convergenceMs).not.toBeNull()
      expect(r.consumersConvergedMs).not.toBeNull()
      expect(r.ok).toBe(true)
    }, 90_000)
  }
})
