// `gossipd monitor` at a level below the daemon's lowers the logger's level while it listens (log-tap.ts):
// fastify's own per-request lines ("incoming request", "request completed", info) then leaked into the
// monitor of a daemon at warn, while a daemon at info never showed them. Requests are gossipd's own debug line.
import { it, expect, afterEach } from 'vitest'
import { Writable } from 'node:stream'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { tappedLogger, logTapOf } from '../src/daemon/observe/log-tap.js'
import { startNode, stopAll, removeTempDirs, waitFor } from './helpers.js'

const token = 'test-token-0123456789'
const nodes: GossipNode[] = []
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
  await stopAll(nodes.splice(0))
  removeTempDirs()
})

it('a monitor at debug on a daemon at warn sees gossipd\'s request line, not fastify\'s per-request info lines', async () => {
  const node = await startNode({ topics: ['t'] })
  nodes.push(node)
  const log = tappedLogger({ level: 'warn' }, new Writable({ write (_chunk, _enc, cb) { cb() } }))
  const api = await createApi({ node, token, logger: log.child({ component: 'api' }) })
  closers.push(async () => await api.close())
  const lines: string[] = []
  const unsubscribe = logTapOf(log)!.subscribe('debug', line => lines.push(line))
  try {
    const res = await fetch(`${api.url}/v1/topics/extra`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    await waitFor('gossipd\'s own request line', () => lines.some(l => l.includes('"msg":"api request"')), 5_000)
    expect(lines.filter(l => /incoming request|request completed/.test(l))).toEqual([])
  } finally { unsubscribe() }
})
