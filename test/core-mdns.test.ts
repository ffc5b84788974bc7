// mDNS discovery, for real, inside a network namespace this test creates (unshare -n, loopback only):
// multicast never touches a real interface. Needs root; without it the test says so loudly and skips.
import { it, expect } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { existsSync } from 'node:fs'
import { spawnInNewNetns, foreignInterfaces } from '../src/lan/isolation.js'

const probe = new URL('../dist/lan/mdns-probe.js', import.meta.url).pathname

describeAsRoot('mDNS discovery (network namespace, needs root)', 'create a network namespace (unshare -n)', () => {
  it('three nodes with no static peers find each other by mDNS and exchange a message', async () => {
    expect(existsSync(probe), 'run `npm run build` first (npm test does)').toBe(true)
    const child = spawnInNewNetns(process.execPath, [probe, '3'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', d => { out += String(d) })
    child.stderr!.on('data', d => { err += String(d) })
    const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
    expect(err).toBe('')
    expect(code).toBe(0)
    const result = JSON.parse(out.trim())
    expect(result).toMatchObject({ nodes: 3, delivered: 2, payloadOk: true })
  })

  // only meaningful where the test's own namespace has an interface we did not create (eth0 here)
  const noForeignInterface = foreignInterfaces().length === 0
  if (noForeignInterface) console.warn('\n*** SKIPPED mDNS-refusal test: no interface here that gossipd did not create ***\n')
  it.skipIf(noForeignInterface)('refuses to turn mDNS on where it can see interfaces it did not create', async () => {
    const { mdnsProbe } = await import('../src/lan/mdns-probe.js')
    await expect(mdnsProbe(2)).rejects.toThrow(/refusing to enable mDNS/)
  })
})
