// GET /metrics after real traffic between two daemon processes (127.0.0.1, no mDNS, static peer): the
// gossipd_* families carry real values, libp2p's, gossipsub's and the process metrics are there too, and
// the control API serves metrics to loopback clients only. npm run build first: the binary runs dist/.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startDaemon, cleanup, tmp, type Daemon } from './daemon-util.js'
import { waitFor, startNode, stopAll, tempDir } from './helpers.js'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { GossipClient } from '../src/client/client.js'
import { createApi } from '../src/daemon/api.js'
import { Observability } from '../src/daemon/observe/index.js'

/** Prometheus text -> Map of 'name{labels}' -> value (labels as written) */
function parse (text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    m.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return m
}
const sum = (m: Map<string, number>, prefix: string): number => [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0)
const has = (m: Map<string, number>, prefix: string): boolean => [...m.keys()].some(k => k.startsWith(prefix))

async function scrape (d: Daemon): Promise<Map<string, number>> {
  const res = await fetch(`${d.url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parse(await res.text())
}

let a: Daemon, b: Daemon
const N = 5

describe('GET /metrics', () => {
  beforeAll(async () => {
    a = await startDaemon(tmp(), ['--topic', 'm'])
    b = await startDaemon(tmp(), ['--topic', 'm', '--peer', a.addr, '--metrics', '127.0.0.1:0'])
    const ca = new GossipClient({ url: a.url, token: a.token })
    const cb = new GossipClient({ url: b.url, token: b.token })
    await waitFor('A and B connected on topic m', async () => (await ca.peers()).some(p => p.topics.includes('m')))
    for (let i = 0; i < N; i++) await ca.publish('m', `payload ${i}`)
    await waitFor('B holds all messages', async () => (await cb.topics()).find(t => t.topic === 'm')?.messages === N)
  })
  afterAll(async () => { await cleanup() })

  it('needs no token and shows the gossipd families with the traffic\'s real values', async () => {
    const ma = await scrape(a)
    expect(ma.get('gossipd_messages_published_total{topic="m"}')).toBe(N)
    expect(ma.get('gossipd_messages_stored_total{topic="m",source="local"}')).toBe(N)
    expect(ma.get('gossipd_message_bytes_total{topic="m",source="local"}')).toBe(N * 'payload 0'.length)
    expect(ma.get('gossipd_publish_commit_seconds_count')).toBe(N)
    expect(ma.get('gossipd_api_publish_seconds_count')).toBe(N)
    expect(ma.get('gossipd_store_messages{topic="m"}')).toBe(N)
    expect(ma.get('gossipd_store_bytes{topic="m"}')).toBeGreaterThan(0)
    expect(ma.get('gossipd_store_fsyncs_total')).toBeGreaterThan(0)
    expect(ma.get('gossipd_store_fsync_seconds_total')).toBeGreaterThan(0)
    expect(ma.get('gossipd_store_pending_writes')).toBe(0)
    expect(ma.get('gossipd_peers_connected')).toBe(1)
    // the background pull's interval: the configured one, or up to 6x it while idle
    expect(ma.get('gossipd_sync_interval_seconds')).toBeGreaterThan(0)
    expect(ma.get('gossipd_peer_joins_total')).toBeGreaterThanOrEqual(1)
    expect(ma.get('gossipd_topic_peers{topic="m"}')).toBe(1)
    expect(ma.get(`gossipd_info{version="0.1.0",peer_id="${a.peerId}"}`)).toBe(1)
    for (const f of ['gossipd_outbox_queued', 'gossipd_outbox_skipped_total', 'gossipd_gossip_bundles_total', 'gossipd_inbound_shed_total', 'gossipd_consumers{topic="m"}']) expect(ma.has(f), f).toBe(true)

    const mb = await scrape(b)
    // B got every message by gossip or sync, and timed each from A's publish
    expect(sum(mb, 'gossipd_messages_stored_total{topic="m"')).toBe(N)
    expect(sum(mb, 'gossipd_message_latency_seconds_count')).toBe(N)
    expect(mb.get('gossipd_messages_published_total{topic="m"}')).toBeUndefined()
    expect(sum(mb, 'gossipd_sync_pulls_total')).toBeGreaterThanOrEqual(1)
    expect(mb.get('gossipd_sync_pull_seconds_count')).toBeGreaterThanOrEqual(1)
    await waitFor('mesh of m formed on B', async () => (await scrape(b)).get('gossipd_mesh_peers{topic="m"}') === 1, 10_000)
  })

  it('includes libp2p, gossipsub and process metrics', async () => {
    const m = await scrape(a)
    expect(sum(m, 'libp2p_data_transfer_bytes_total')).toBeGreaterThan(0)
    expect(has(m, 'libp2p_')).toBe(true)
    expect(has(m, 'gossipsub_')).toBe(true)
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(m.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(has(m, 'nodejs_eventloop_lag_seconds')).toBe(true)
  })

  it('counts a named consumer and its lag', async () => {
    const cb = new GossipClient({ url: b.url, token: b.token })
    const ctrl = new AbortController()
    const stream = await cb.stream('m', { consumer: 'reader', from: 'beginning', signal: ctrl.signal })
    const it = stream[Symbol.asyncIterator]()
    await it.next()
    const m = await scrape(b)
    expect(m.get('gossipd_consumers{topic="m"}')).toBe(1)
    expect(m.has('gossipd_consumer_lag_messages{topic="m",consumer="reader"}')).toBe(true)
    stream.close()
  })

  it('the Grafana dashboard queries families a real scrape has, with their labels, and has panels for sync by peer, bans, unjoined drops and forks', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../configs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ title: string, targets: Array<{ expr: string, legendFormat?: string }> }> }
    const text = await (await fetch(`${b.url}/metrics`)).text()
    // families by their # TYPE lines (a labelled family with no series yet has those only); histograms as their series
    const families = new Set<string>()
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (type === 'histogram') for (const x of ['_bucket', '_sum', '_count']) families.add(name + x)
      else families.add(name)
    }
    const labelsOf = (name: string): Set<string> => new Set([...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\}`, 'gm'))].flatMap(m => [...m[1].matchAll(/(\w+)="/g)].map(l => l[1])))
    const queried = new Set<string>()
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) {
        const names = [...t.expr.matchAll(/\b((?:gossipd|gossipsub|libp2p|process|nodejs)_\w+)/g)].map(m => m[1])
        expect(names.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0)
        for (const n of names) {
          queried.add(n)
          expect(families.has(n), `${panel.title}: ${n} is not in /metrics`).toBe(true)
          // labels it groups by or names in the legend, where the family has series to tell
          const labels = labelsOf(n)
          const used = [...(t.expr.match(/by \(([^)]*)\)/)?.[1].split(',') ?? []), ...[...(t.legendFormat ?? '').matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1])].map(l => l.trim()).filter(l => l !== '' && l !== 'le' && l !== 'instance')
          if (labels.size > 0) for (const l of used) expect(labels.has(l), `${panel.title}: ${n} has no label ${l}`).toBe(true)
        }
      }
    }
    for (const f of ['gossipd_sync_peer_pulls_total', 'gossipd_sync_peer_messages_total', 'gossipd_peer_bans_total', 'gossipd_gossip_dropped_unjoined_total', 'gossipd_forks_total', 'gossipd_fork_refused_total']) {
      expect(queried.has(f), `no panel queries ${f}`).toBe(true)
    }
  })

  it('the metrics option opens a listener for a remote Prometheus', async () => {
    const line = b.stderr().split('\n').find(l => l.includes('gossipd started'))!
    const url = JSON.parse(line).metrics as string
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('gossipd_messages_stored_total{topic="m"')
    expect((await fetch(url.replace('/metrics', '/readyz'))).status).toBe(200)
  })

  it('the metrics listener answers errors in the control API\'s JSON shape: no Host header, unknown path, bytes that are not HTTP (no Host was a bare 400 with no body)', async () => {
    const line = b.stderr().split('\n').find(l => l.includes('gossipd started'))!
    const port = Number(new URL(JSON.parse(line).metrics as string).port)
    const raw = async (text: string): Promise<{ status: number, body: unknown }> => await new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(text))
      let got = ''
      s.on('data', d => { got += d })
      s.on('error', reject)
      s.on('close', () => {
        const [head, body] = [got.slice(0, got.indexOf('\r\n\r\n')), got.slice(got.indexOf('\r\n\r\n') + 4)]
        let parsed: unknown = body
        try { parsed = JSON.parse(body) } catch { /* left as text */ }
        resolve({ status: Number(/^HTTP\/1\.[01] (\d+)/.exec(head)?.[1]), body: parsed })
      })
    })
    const noHost = await raw('GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n')
    expect(noHost).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringContaining('Host header') } } })
    const unknown = await raw(`GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } })
    const garbage = await raw('HELLO\r\n\r\n')
    expect(garbage).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } })
    // HTTP/1.0 has no Host header: a scrape that way is still served
    const old = await raw('GET /metrics HTTP/1.0\r\n\r\n')
    expect(old.status).toBe(200)
    expect(String(old.body)).toContain('gossipd_messages_stored_total')
  })
})

describe('GET /metrics on the control API', () => {
  it('refuses clients that are not on loopback', async () => {
    const node = await startNode()
    const observe = new Observability({ version: 'test', expectPeers: false })
    observe.attach(node)
    const api = await createApi({ node, token: 'secret', observe })
    try {
      const host = new URL(api.url).host
      const remote = await api.app.inject({ method: 'GET', url: '/metrics', headers: { host }, remoteAddress: '192.0.2.10' })
      expect(remote.statusCode).toBe(403)
      expect(remote.json().error.code).toBe('FORBIDDEN_REMOTE')
      const local = await api.app.inject({ method: 'GET', url: '/metrics', headers: { host }, remoteAddress: '127.0.0.1' })
      expect(local.statusCode).toBe(200)
      expect(local.body).toContain('gossipd_up 1')
    } finally {
      await api.close()
      await stopAll([node])
    }
  })

  it('answers over the API unix socket (this host too; it was refused with 403 FORBIDDEN_REMOTE)', async () => {
    const node = await startNode()
    const observe = new Observability({ version: 'test', expectPeers: false })
    observe.attach(node)
    const socketPath = join(tempDir(), 'api.sock')
    const api = await createApi({ node, token: 'secret', observe, socketPath })
    try {
      const res = await new Promise<{ status: number, body: string }>((resolve, reject) => {
        const req = request({ socketPath, path: '/metrics', headers: { host: 'anything', authorization: 'Bearer secret' } }, r => {
          let body = ''
          r.on('data', d => { body += d })
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
      expect(res.status).toBe(200)
      expect(res.body).toContain('gossipd_up 1')
      // no token, as on loopback TCP (README: "no token; loopback and unix-socket clients only"); it was 401
      for (const path of ['/metrics', '/healthz']) {
        const bare = await new Promise<{ status: number, body: string }>((resolve, reject) => {
          const req = request({ socketPath, path, headers: { host: 'anything' } }, r => {
            let body = ''
            r.on('data', d => { body += d })
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body }))
          })
          req.on('error', reject)
          req.end()
        })
        expect(bare.status, `${path}: ${bare.body}`).toBe(200)
      }
    } finally {
      await api.close()
      await stopAll([node])
    }
  })
})
