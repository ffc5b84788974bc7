// Build 5 of issue 10: the control API on a unix socket (0600) as well as TCP, and a clear refusal to serve
// it on a non-loopback address (plain HTTP would carry the token in clear text).
import { describe, it, expect, afterAll } from 'vitest'
import { request } from 'node:http'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { ConfigError, resolveConfig } from '../src/daemon/config.js'
import { startNode, removeTempDirs, tempDir } from './helpers.js'
import { gossipd, cleanup, tmp, SAFE_ARGS } from './daemon-util.js'

let node: GossipNode | undefined
afterAll(async () => {
  await node?.stop()
  removeTempDirs()
  await cleanup()
})

async function overSocket (socketPath: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'anything', ...headers } }, res => {
      let body = ''
      res.on('data', d => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('control API access', () => {
  it('serves the API on a 0600 unix socket too; the token is still required', async () => {
    node = await startNode()
    const socketPath = join(tempDir(), 'api.sock')
    const api = await createApi({ node, token: 'sock-token', socketPath })
    expect(statSync(socketPath).mode & 0o777).toBe(0o600)
    const ok = await overSocket(socketPath, '/v1/status', { authorization: 'Bearer sock-token' })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body).peerId).toBe(node.peerId)
    expect((await overSocket(socketPath, '/v1/status')).status).toBe(401)
    // TCP still checks the Host header
    const tcp = await fetch(`${api.url}/v1/status`, { headers: { authorization: 'Bearer sock-token' } })
    expect(tcp.status).toBe(200)
    await api.close()
    expect(() => statSync(socketPath)).toThrow()
  })

  it('refuses a non-loopback API address, naming the setting', async () => {
    for (const api of ['0.0.0.0:7420', '10.1.2.3:7420', '[::]:7420']) {
      expect(() => resolveConfig({ flags: { api } }), api).toThrow(ConfigError)
      expect(() => resolveConfig({ flags: { api } })).toThrow(/--api.*loopback/)
    }
    expect(() => resolveConfig({ env: { GOSSIPD_API: '0.0.0.0:1' } })).toThrow(/GOSSIPD_API/)
    for (const api of ['127.0.0.1:0', 'localhost:7420', '[::1]:7420', '7420']) expect(resolveConfig({ flags: { api } }).api.port).toBeGreaterThanOrEqual(0)
    const args = SAFE_ARGS.map(a => a === '127.0.0.1:0' ? '0.0.0.0:0' : a)
    const r = await gossipd(['start', '--data', tmp(), ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--api.*not a loopback address/)
  })
})

describe('bad trust settings and refused publishes', () => {
  it('a bad swarm key file or a bad peer id in the access lists is a ConfigError naming the key', () => {
    const dir = tempDir()
    const keyFile = join(dir, 'swarm.key')
    writeFileSync(keyFile, 'not a key')
    expect(() => resolveConfig({ flags: { swarmKey: keyFile } })).toThrow(/--swarm-key.*swarm key/)
    expect(() => resolveConfig({ flags: { swarmKey: join(dir, 'missing.key') } })).toThrow(/--swarm-key.*ENOENT/)
    expect(() => resolveConfig({ env: { GOSSIPD_SWARM_KEY: keyFile } })).toThrow(/GOSSIPD_SWARM_KEY/)
    const config = join(dir, 'c.json')
    writeFileSync(config, JSON.stringify({ denyPeers: ['nope'] }))
    expect(() => resolveConfig({ file: config })).toThrow(/denyPeers\[0\].*not a peer id/)
    writeFileSync(config, JSON.stringify({ publishers: { 'bad topic!': [] } }))
    expect(() => resolveConfig({ file: config })).toThrow(/publishers/)
    writeFileSync(config, JSON.stringify({ publishers: { t: ['x'] } }))
    expect(() => resolveConfig({ file: config })).toThrow(/publishers\.t\[0\]/)
  })

  it('the API answers 400 PUBLISHER_NOT_ALLOWED for a publish this node may not make', async () => {
    const n = await startNode({ publishers: { locked: ['12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'] } })
    const api = await createApi({ node: n, token: 'tok' })
    try {
      const r = await fetch(`${api.url}/v1/topics/locked/messages`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: '{"payload":"x"}' })
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PUBLISHER_NOT_ALLOWED')
    } finally {
      await api.close()
      await n.stop()
    }
  })
})
