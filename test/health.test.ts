// /healthz and /readyz for probes: no token, still only for this daemon's Host, and readiness waits for a
// peer when static peers are configured. npm run build first: the binary runs dist/.
import { describe, it, expect, afterAll } from 'vitest'
import { request } from 'node:http'
import { startDaemon, cleanup, tmp } from './daemon-util.js'
import { freePort } from './helpers.js'

afterAll(async () => { await cleanup() })

function get (url: string, host?: string): Promise<{ status: number, body: unknown }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: host != null ? { host } : {} }, res => {
      let data = ''
      res.on('data', d => { data += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('health probes', () => {
  it('a running daemon is live and ready without a token; other calls still need it', async () => {
    const d = await startDaemon(tmp())
    expect(await get(`${d.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await get(`${d.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready', checks: { store: true, listening: true } } })
    expect((await get(`${d.url}/v1/status`)).status).toBe(401)
    // the DNS-rebinding guard applies to the probes too
    const foreign = await get(`${d.url}/healthz`, 'evil.example:80')
    expect(foreign.status).toBe(403)
  })

  it('with static peers, it is live but not ready until one is connected', async () => {
    // nobody listens at this peer's address
    const port = await freePort()
    const d = await startDaemon(tmp(), ['--peer', `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWGMG9unYRMjWPXUQ8MWQcoxqmdQUHMMbjp6qhPz53SZhA`])
    expect((await get(`${d.url}/healthz`)).status).toBe(200)
    const r = await get(`${d.url}/readyz`)
    expect(r.status).toBe(503)
    expect(r.body).toEqual({ status: 'not ready', checks: { store: true, listening: true, peers: false } })

    const peer = await startDaemon(tmp())
    const d2 = await startDaemon(tmp(), ['--peer', peer.addr])
    const deadline = Date.now() + 15_000
    let ready = await get(`${d2.url}/readyz`)
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
      ready = await get(`${d2.url}/readyz`)
    }
    expect(ready.body).toEqual({ status: 'ready', checks: { store: true, listening: true, peers: true } })
  })
})
