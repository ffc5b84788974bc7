// /metrics stays bounded whatever peers do: label values a remote peer chooses (its id, a topic it names, a
// rejection reason) do not become one series each, while the totals stay exact. A hostile-LAN review saw 20
// fresh-key hosts that dialed and left leave 20 series {peer=...,result="failed"} behind, for ever.
// In-process: the node's events are emitted by hand into the metrics, as the node emits them.
import { describe, it, expect } from 'vitest'
import { EventEmitter } from 'node:events'
import { getMetrics } from '@libp2p/gossipsub/metrics'
import { GossipdMetrics } from '../src/daemon/observe/metrics.js'
import type { GossipNode } from '../src/core/node.js'

interface Sample { name: string, labels: string, value: number }

async function scrape (m: GossipdMetrics): Promise<Sample[]> {
  const out: Sample[] = []
  for (const line of (await m.text()).body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    const series = line.slice(0, i)
    const b = series.indexOf('{')
    out.push({ name: b < 0 ? series : series.slice(0, b), labels: b < 0 ? '' : series.slice(b), value: Number(line.slice(i + 1)) })
  }
  return out
}
/** the sum of a family's series, optionally only those carrying a label value */
const total = (s: Sample[], name: string, label = ''): number => s.filter(x => x.name === name && x.labels.includes(label)).reduce((a, x) => a + x.value, 0)
const peerSeries = (s: Sample[]): number => s.filter(x => x.name.startsWith('gossipd_') && x.labels.includes('peer=')).length

/** what the metrics read from a node: its events (emitted by the test), and nothing while "not running" */
function fakeNode (): GossipNode & EventEmitter {
  return Object.assign(new EventEmitter(), { isRunning: false, topics: () => [], peers: () => [] }) as unknown as GossipNode & EventEmitter
}

const N = 2_000
/** far fewer than N: what "bounded" means here (the cap is a few dozen peers of a few series each) */
const BOUND = 300

describe('metrics labels that peers choose stay bounded', () => {
  it('peers that connect with fresh keys, pull and leave leave no series behind; totals stay exact', async () => {
    const m = new GossipdMetrics({ version: 'test' })
    const node = fakeNode()
    m.attach(node)
    for (let i = 0; i < N; i++) {
      const peer = `12D3KooWfresh${i}`
      node.emit('peer:join', { peer })
      node.emit('sync', { peer, received: 3, stored: 2, ms: 5, batches: 1 })
      node.emit('sync:failed', { peer, error: 'stream reset' })
      node.emit('peer:leave', { peer })
      // a pull that was under way when the peer left fails afterwards
      node.emit('sync:failed', { peer, error: 'connection closed' })
    }
    const s = await scrape(m)
    expect(peerSeries(s)).toBeLessThanOrEqual(BOUND)
    expect(total(s, 'gossipd_sync_pulls_total', 'result="ok"')).toBe(N)
    expect(total(s, 'gossipd_sync_pulls_total', 'result="failed"')).toBe(2 * N)
    expect(total(s, 'gossipd_sync_messages_total', 'kind="received"')).toBe(3 * N)
    expect(total(s, 'gossipd_sync_messages_total', 'kind="stored"')).toBe(2 * N)
    expect(total(s, 'gossipd_sync_batches_total')).toBe(N)
    expect(total(s, 'gossipd_sync_pull_seconds_count')).toBe(N)
  })

  it('many peers connected at once: per-peer series are capped, the rest count as peer="other"', async () => {
    const m = new GossipdMetrics({ version: 'test' })
    const node = fakeNode()
    m.attach(node)
    for (let i = 0; i < N; i++) {
      const peer = `12D3KooWmany${i}`
      node.emit('peer:join', { peer })
      node.emit('sync', { peer, received: 1, stored: 1, ms: 1, batches: 1 })
    }
    const s = await scrape(m)
    expect(peerSeries(s)).toBeLessThanOrEqual(BOUND)
    expect(total(s, 'gossipd_sync_pulls_total', 'result="ok"')).toBe(N)
    expect(total(s, 'gossipd_sync_messages_total', 'kind="stored"')).toBe(N)
    // a connected peer within the cap has its own series; the others are summed under "other"
    expect(s.some(x => x.labels.includes('peer="12D3KooWmany0"'))).toBe(true)
    expect(s.some(x => x.labels.includes('peer="other"'))).toBe(true)
    // the per-peer families add up to the totals too
    expect(total(s, 'gossipd_sync_peer_pulls_total', 'result="ok"')).toBe(N)
  })

  it('a connected peer keeps its own series until it leaves (its per-peer counters then restart)', async () => {
    const m = new GossipdMetrics({ version: 'test' })
    const node = fakeNode()
    m.attach(node)
    const peer = '12D3KooWsteady'
    node.emit('peer:join', { peer })
    node.emit('sync', { peer, received: 4, stored: 1, ms: 1, batches: 2 })
    node.emit('sync', { peer, received: 4, stored: 1, ms: 1, batches: 2 })
    let s = await scrape(m)
    expect(total(s, 'gossipd_sync_peer_pulls_total', `peer="${peer}"`)).toBe(2)
    expect(total(s, 'gossipd_sync_peer_messages_total', `peer="${peer}",kind="received"`)).toBe(8)
    expect(total(s, 'gossipd_sync_peer_batches_total', `peer="${peer}"`)).toBe(4)
    node.emit('peer:leave', { peer })
    s = await scrape(m)
    expect(peerSeries(s)).toBe(0)
    expect(total(s, 'gossipd_sync_pulls_total')).toBe(2)
    node.emit('peer:join', { peer })
    node.emit('sync', { peer, received: 1, stored: 1, ms: 1, batches: 1 })
    s = await scrape(m)
    expect(total(s, 'gossipd_sync_peer_pulls_total', `peer="${peer}"`)).toBe(1)
    expect(total(s, 'gossipd_sync_pulls_total')).toBe(3)
  })

  it('rejection reasons are capped; their sum stays exact', async () => {
    const m = new GossipdMetrics({ version: 'test' })
    const node = fakeNode()
    m.attach(node)
    for (let i = 0; i < N; i++) node.emit('rejected', { peer: 'p', reason: `malformed envelope: ${'x'.repeat(i % 7)} ${i}`, count: 2 })
    node.emit('rejected', { peer: 'p', reason: 'peer banned: test', count: 0, banned: true })
    const s = await scrape(m)
    expect(s.filter(x => x.name === 'gossipd_messages_rejected_total').length).toBeLessThanOrEqual(BOUND)
    expect(total(s, 'gossipd_messages_rejected_total')).toBe(2 * N)
    expect(total(s, 'gossipd_peer_bans_total')).toBe(1)
  })

  it('gossipsub\'s metrics do not label by topics that peers name', async () => {
    const m = new GossipdMetrics({ version: 'test' })
    m.attach(fakeNode())
    const opts = m.nodeMetrics().gossipsub!
    const g = getMetrics(opts.metricsRegister!, opts.metricsTopicStrToLabel!, { gossipPromiseExpireSec: 3, behaviourPenaltyThreshold: 6, maxMeshMessageDeliveriesWindowSec: 2 })
    for (let i = 0; i < N; i++) {
      // a message and an IHAVE on a topic this node never joined, and the peer count gossipsub reports for it
      g.onMsgRecvPreValidation(`spam-${i}`)
      g.onIhaveRcv(`spam-${i}`, 1, 1)
      g.topicPeersCount.set({ topicStr: `spam-${i}` }, 1)
    }
    const s = await scrape(m)
    expect(s.filter(x => x.name.startsWith('gossipsub_') && x.labels.includes('spam-')).length).toBe(0)
    expect(total(s, 'gossipsub_msg_received_prevalidation_total')).toBe(N)
  })
})
