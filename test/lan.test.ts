// The LAN story end to end: real daemon processes, one per network namespace on a private bridge, mDNS
// as the only discovery, CLI for publishing, kill -9 and catch-up. Needs root (ip netns); CI runs as root.
import { it, expect } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { runLanScenario } from '../src/lan/scenario.js'
import { ownNamespaces } from '../src/lan/netns.js'

describeAsRoot('simulated LAN (network namespaces, needs root)', 'create network namespaces', () => {
  it('3 daemons find each other by mDNS, get a CLI publish, and a daemon killed with -9 catches up after restart', async () => {
    const report = await runLanScenario({ nodes: 3, backlog: 25, waitMs: 45_000 })
    expect(report.error).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.steps.map(s => s.step)).toEqual(expect.arrayContaining([
      'all daemons see each other',
      'every daemon got the message published through the CLI on h0',
      'h2 caught up',
    ]))
    // nothing of ours left behind (other test files run LANs at the same time: theirs are not ours to judge)
    expect(ownNamespaces()).toEqual([])
  }, 180_000)
})
