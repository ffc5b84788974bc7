// Bounded buffers on the consumer side: the client stops reading an SSE body once its buffer is full (the
// daemon's writes then wait), a consumer's buffer is bounded in bytes as well as messages, a daemon serves
// a bounded number of streams; and no promise waits forever (stream ready) or is lost unseen (daemon's
// unhandled rejections are logged and counted).
import { describe, it, expect, afterEach } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { startDaemon, reportUnhandledRejection } from '../src/daemon/daemon.js'
import { Observability } from '../src/daemon/observe/index.js'
import { tappedLogger } from '../src/daemon/observe/log-tap.js'
import { GossipClient, ApiRequestError } from '../src/client/client.js'
import type { StoredMessage } from '../src/store/store.js'
import { startNode, stopAll, tempDir, waitFor } from './helpers.js'

const token = 'test-token-0123456789'
const nodes: GossipNode[] = []
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
  await stopAll(nodes.splice(0))
})

/** A fake daemon's stream endpoint: `handler` writes the SSE body. */
async function fakeStreamServer (handler: (res: import('node:http').ServerResponse) => void): Promise<string> {
  const srv: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    handler(res)
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  closers.push(async () => { srv.closeAllConnections(); await new Promise(resolve => srv.close(resolve)) })
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

describe('client stream', () => {
  it('stops reading the body once maxBufferBytes are buffered, so the sender is held back; nothing is lost', async () => {
    const MSG = 64 * 1024
    const COUNT = 600 // ~39 MiB in all
    let written = 0
    let sent = 0
    const url = await fakeStreamServer(res => {
      res.write('event: ready\ndata: {"topic":"t","consumer":null}\n\n')
      const body = JSON.stringify('x'.repeat(MSG))
      const more = (): void => {
        while (sent < COUNT) {
          const ev = `id: ${sent}\nevent: message\ndata: {"offset":${sent},"payload":${body}}\n\n`
          sent++
          written += ev.length
          if (!res.write(ev)) { res.once('drain', more); return }
        }
        res.end()
      }
      more()
    })
    const client = new GossipClient({ url, token })
    const s = await client.stream('t', { maxBufferBytes: 512 * 1024 })
    closers.push(() => s.close())
    await sleep(1_500) // a reader that does not iterate
    const stalled = written
    await sleep(1_000)
    // the sender is held back: nothing more went out, and what did is bounded by the client's buffer plus
    // socket buffers, far below the whole
    expect(written).toBe(stalled)
    expect(sent).toBeLessThan(COUNT)
    expect(written).toBeLessThan(16 * 1024 * 1024)
    expect(s.bufferedBytes).toBeLessThanOrEqual(512 * 1024 + 2 * MSG + 1024)
    let n = 0
    for await (const m of s) { expect((m as unknown as { offset: number }).offset).toBe(n); n++ }
    expect(n).toBe(COUNT)
  }, 30_000)

  it('stream() rejects with a clear error when the daemon never confirms the stream (no ready event)', async () => {
    const url = await fakeStreamServer(res => { res.write(': connected, but no ready\n\n') })
    const client = new GossipClient({ url, token })
    const t0 = Date.now()
    const err = await Promise.race([
      client.stream('t', { readyTimeoutMs: 300 }).then(() => new Error('resolved'), e => e as Error),
      sleep(5_000).then(() => new Error('stream() still waiting after 5 s')),
    ])
    expect(err).toBeInstanceOf(ApiRequestError)
    expect((err as ApiRequestError).code).toBe('TIMEOUT')
    expect(err.message).toMatch(/did not confirm the stream/)
    expect(Date.now() - t0).toBeLessThan(3_000)
  })
})

describe('consumer buffer', () => {
  it('async iteration buffers at most 8 MiB by default (bytes, not only messages)', async () => {
    const node = await startNode({ topics: ['big'] })
    nodes.push(node)
    const payload = new Uint8Array(256 * 1024)
    for (let i = 0; i < 48; i++) await node.publish('big', payload) // 12 MiB, far below 1000 messages
    const c = node.consume('big', { from: 'beginning' })
    const it = c[Symbol.asyncIterator]()
    const firstP = it.next() // iterating from here on, and taking no more for now
    c.start()
    const first = await firstP
    await sleep(300)
    const b = (c as unknown as { buffered?: { bytes: number, messages: number } }).buffered
    expect(b?.bytes).toBeLessThanOrEqual(8 * 1024 * 1024 + payload.byteLength)
    expect(b?.messages).toBeLessThan(40)
    const seqs = [(first.value as StoredMessage).seq]
    while (seqs.length < 48) seqs.push(((await it.next()).value as StoredMessage).seq)
    expect(seqs).toEqual(Array.from({ length: 48 }, (_, i) => i + 1))
    c.close()
  })
})

describe('daemon limits', () => {
  it('serves at most maxStreams streams at once: 503 TOO_MANY_STREAMS beyond, room again once one closes', async () => {
    const node = await startNode({ topics: ['t'] })
    nodes.push(node)
    const api = await createApi({ node, token, maxStreams: 2 })
    closers.push(async () => await api.close())
    const client = new GossipClient({ url: api.url, token })
    const a = await client.stream('t'); const b = await client.stream('t')
    closers.push(() => { a.close(); b.close() })
    const err = await client.stream('t').then(() => null, e => e as ApiRequestError)
    expect(err?.status).toBe(503)
    expect(err?.code).toBe('TOO_MANY_STREAMS')
    a.close()
    await waitFor('a stream slot is free', async () => await client.stream('t').then(s => { s.close(); return true }, () => false), 5_000)
  })

  it('maxStreams is one limit for all long-lived streams: /v1/topics/:topic/stream, /v1/logs and /ui/events share it, and a slot comes back when its stream ends', async () => {
    const node = await startNode({ topics: ['t'] })
    nodes.push(node)
    const log = tappedLogger({ level: 'info' }, new Writable({ write (_chunk, _enc, cb) { cb() } }))
    const observe = new Observability({ version: 'test', expectPeers: false, logger: log })
    observe.attach(node)
    const api = await createApi({ node, token, maxStreams: 2, observe, logger: log })
    closers.push(async () => { await api.close(); await observe.close() })
    const client = new GossipClient({ url: api.url, token })
    const open = async (path: string): Promise<{ res: Response, close: () => void }> => {
      const ctrl = new AbortController()
      const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal })
      const close = (): void => ctrl.abort()
      closers.push(close)
      return { res, close }
    }
    const logs = await Promise.all(Array.from({ length: 6 }, async () => await open('/v1/logs?level=trace')))
    expect(logs.map(l => l.res.status).sort()).toEqual([200, 200, 503, 503, 503, 503])
    const refused = logs.find(l => l.res.status === 503)!
    expect(refused.res.headers.get('retry-after')).toBe('5')
    expect(((await refused.res.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS')
    const ui = await open('/ui/events')
    expect(ui.res.status).toBe(503)
    await expect(client.stream('t')).rejects.toMatchObject({ status: 503, code: 'TOO_MANY_STREAMS' })
    // one log stream ends: its slot serves a swarm page, and then all are taken again
    logs.find(l => l.res.status === 200)!.close()
    let page: { res: Response, close: () => void } | undefined
    await waitFor('a slot is free for /ui/events', async () => {
      const u = await open('/ui/events')
      if (u.res.status === 200) page = u
      else u.close()
      return page != null
    }, 5_000)
    expect((await open('/v1/logs')).res.status).toBe(503)
    await expect(client.stream('t')).rejects.toMatchObject({ status: 503, code: 'TOO_MANY_STREAMS' })
    page!.close()
    await waitFor('a slot is free for a topic stream', async () => await client.stream('t').then(s => { s.close(); return true }, () => false), 5_000)
  })

  it('a swarm page that stops reading does not grow the daemon\'s memory: /ui/events skips snapshots while earlier ones wait unsent', async () => {
    const node = await startNode()
    nodes.push(node)
    // 1,000 topics with their 60-second series make a snapshot of about 0.8 MB, so a few fill the socket buffers
    for (let i = 0; i < 1000; i++) node.join(`t${i}`)
    const observe = new Observability({ version: 'test', expectPeers: false })
    observe.attach(node)
    const api = await createApi({ node, token, observe })
    closers.push(async () => { await api.close(); await observe.close() })
    let res: ServerResponse | undefined
    api.app.server.on('request', (req: IncomingMessage, r: ServerResponse) => { if (req.url === '/ui/events') res = r })
    const { hostname, port } = new URL(api.url)
    const sock = connect(Number(port), hostname)
    closers.push(() => { sock.destroy() })
    sock.write(`GET /ui/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`)
    // the page's reader hangs (a frozen tab, a stopped process): nothing is read from here on
    sock.pause()
    await waitFor('the socket buffers are full: writes queue in the daemon', () => (res?.writableLength ?? 0) > 0)
    // then a snapshot a second for several seconds (4 MB more before the fix)
    await new Promise(resolve => setTimeout(resolve, 5_000))
    expect(res!.writableLength).toBeLessThan(2 * 1024 * 1024)
  })

  it('logs unhandled rejections at error and counts them in status', async () => {
    const lines: string[] = []
    const log = pino({ level: 'info' }, new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } }))
    const d = await startDaemon({ dataDir: tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], api: { host: '127.0.0.1', port: 0 }, mdns: false, peers: [], topics: [], retention: {}, logLevel: 'info', maxPayloadBytes: 1024 * 1024 }, log)
    closers.push(async () => await d.stop())
    const client = new GossipClient({ url: d.url, token: d.token })
    const before = (await client.status()).unhandledRejections
    expect(before).toBeTypeOf('number')
    reportUnhandledRejection(log, new Error('lost promise'))
    expect((await client.status()).unhandledRejections).toBe(before! + 1)
    const entry = lines.map(l => JSON.parse(l)).find(e => e.err?.message === 'lost promise')
    expect(entry?.level).toBe(50) // error
  })
})
