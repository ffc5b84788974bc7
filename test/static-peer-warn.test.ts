// A static peer (--peer) that cannot be reached is said at warn level once, not only in debug lines: a typo
// in --peer left a newcomer with no word of it (only /readyz's peers: false). Retries stay at debug.
import { it, expect, afterEach } from 'vitest'
import { createServer, type AddressInfo } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import type { LogFn } from '../src/core/events.js'
import { startNode, stopAll, removeTempDirs, waitFor } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => {
  await stopAll(nodes.splice(0))
  removeTempDirs()
})

/** a port on 127.0.0.1 that nothing listens on (taken, then given back) */
async function closedPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

it('a static peer that cannot be reached is logged at warn once; its retries at debug', async () => {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const addr = `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${id}`
  const logs: Array<{ level: string, msg: string, extra?: Record<string, unknown> }> = []
  const log: LogFn = (level, msg, extra) => { logs.push({ level, msg, extra: extra as Record<string, unknown> }) }
  nodes.push(await startNode({ peers: [addr], log }))
  const failed = (): typeof logs => logs.filter(l => l.msg === 'static peer dial failed')
  await waitFor('three dials failed', () => failed().length >= 3, 15_000)
  const warned = failed().filter(l => l.level === 'warn')
  expect(warned).toHaveLength(1)
  expect(warned[0].extra).toMatchObject({ addr })
  expect(failed().slice(1).every(l => l.level === 'debug')).toBe(true)
})
