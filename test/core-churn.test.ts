import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, stopAll, tempDir, freePort } from './helpers.js'

const running: Array<GossipNode | undefined> = []
afterEach(async () => { await stopAll(running.splice(0)) })

// deterministic pseudo-random churn so a failure can be replayed
function rng (seed: number): () => number {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
}

describe('5 nodes under churn', () => {
  it('two publishers, nodes stopped and started at random during 2,000 publishes: every node ends with every message once, each consumer in order', async () => {
    const N = 5
    const keys: PrivateKey[] = await Promise.all(Array.from({ length: N }, async () => await generateKeyPair('Ed25519')))
    const ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    const ports = await Promise.all(Array.from({ length: N }, freePort))
    const dirs = Array.from({ length: N }, () => tempDir())
    const addr = (i: number): string => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${ids[i]}`
    // what each node's durable consumer delivered, per origin, across restarts
    const seen: Array<Map<string, number[]>> = Array.from({ length: N }, () => new Map())

    const start = async (i: number): Promise<void> => {
      const node = await startNode({
        dataDir: dirs[i],
        privateKey: keys[i],
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`],
        peers: Array.from({ length: N }, (_, j) => j).filter(j => j !== i).map(addr),
        topics: ['churn'],
        gapTimeoutMs: 120_000, // nothing is really lost here, so no gap may be given up on
        syncIntervalMs: 500,
      })
      const c = node.consume('churn', { name: 'checker', from: 'beginning' })
      c.on('message', m => {
        const list = seen[i].get(m.origin) ?? []
        list.push(m.seq)
        seen[i].set(m.origin, list)
        c.ack(m)
      }).start()
      running[i] = node
    }
    const stop = async (i: number): Promise<void> => {
      const n = running[i]
      running[i] = undefined
      await n?.stop()
    }

    for (let i = 0; i < N; i++) await start(i)
    await waitFor('initial mesh', () => running.every(n => (n?.peers().length ?? 0) >= N - 1))

    const random = rng(42)
    let publishing = true
    let churnEvents = 0
    const churn = (async () => {
      while (publishing) {
        await new Promise(resolve => setTimeout(resolve, 50 + random() * 150))
        const i = 2 + Math.floor(random() * (N - 2)) // nodes 2..4 churn; 0 and 1 publish
        if (running[i] != null) await stop(i); else await start(i)
        churnEvents++
      }
    })()
    const publish = async (p: number): Promise<void> => {
      for (let k = 0; k < 1000; k++) {
        const r = await running[p]!.publish('churn', `p${p}-${k}`)
        expect(r.seq).toBe(k + 1)
        // spread the publishes over a few seconds so that many stops and starts fall in between
        if (k % 25 === 24) await new Promise(resolve => setTimeout(resolve, 60))
      }
    }
    await Promise.all([publish(0), publish(1)])
    publishing = false
    await churn
    expect(churnEvents).toBeGreaterThanOrEqual(10)
    for (let i = 0; i < N; i++) if (running[i] == null) await start(i)

    await waitFor('every node holds all 2,000', () => running.every(n => n!.topics()[0].messages === 2000), 90_000)
    await waitFor('every consumer delivered all 2,000', () => seen.every(s => [...s.values()].reduce((a, l) => a + l.length, 0) >= 2000), 30_000)
    const expected = Array.from({ length: 1000 }, (_, k) => k + 1)
    for (let i = 0; i < N; i++) {
      expect([...seen[i].keys()].sort()).toEqual([ids[0], ids[1]].sort())
      expect(seen[i].get(ids[0])).toEqual(expected)
      expect(seen[i].get(ids[1])).toEqual(expected)
    }
  })
})
