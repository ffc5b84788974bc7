// An honest newcomer is not locked out by a crowd of idle strangers (one device, many free peer ids, two
// source IPs: each group is under the per-IP cap of 8). Real nodes and a real attacker, in a network
// namespace this test creates with 10.9.0.x on its loopback (nothing leaves it; mDNS off). Needs root; without
// it the test says so loudly and skips.
import { it, expect } from 'vitest'
import { existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { describeAsRoot } from './helpers.js'
import { CROWD_ADDRS, type CrowdResult } from '../src/lan/crowd-probe.js'

const probe = new URL('../dist/lan/crowd-probe.js', import.meta.url).pathname

async function runInNamespace (args: string[]): Promise<{ code: number | null, out: string, err: string }> {
  const ips = [CROWD_ADDRS.honest, ...CROWD_ADDRS.attackers, CROWD_ADDRS.newcomer]
  const setup = ['ip link set lo up', ...ips.map(ip => `ip addr add ${ip}/32 dev lo`)].join(' && ')
  // an anonymous namespace (unshare -n): it goes away with the process
  const child = spawn('unshare', ['-n', '--', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, probe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += String(d) })
  child.stderr.on('data', d => { err += String(d) })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  return { code, out, err }
}

describeAsRoot('idle strangers cannot lock out an honest newcomer (network namespace, needs root)', 'create a network namespace (unshare -n)', () => {
  it('a node (bounds 2/4) filled by 16 idle peer ids from 2 IPs still takes in an honest newcomer, which gets a message published after it joined', async () => {
    expect(existsSync(probe), 'run `npm run build` first (npm test does)').toBe(true)
    const { code, out, err } = await runInNamespace(['8'])
    expect(err, out).toBe('')
    expect(code).toBe(0)
    const result = JSON.parse(out.trim()) as CrowdResult
    // the crowd did fill the node: this is the situation being tested
    expect(result.attackers).toBe(16)
    expect(result.heldBefore).toBeGreaterThanOrEqual(4)
    expect(result, 'the newcomer was locked out').toMatchObject({ newcomerConnected: true, delivered: true })
  }, 120_000)
})
