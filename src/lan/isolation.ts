// Guard for anything that turns mDNS on in tests, benchmarks and LAN simulations: multicast must never
// leave on a real interface of this machine, so those runs happen in network namespaces we create, and
// refuse to run if they can see an interface we did not make.
import { networkInterfaces } from 'node:os'
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/** interface names gossipd's own namespaces use: loopback, our veth ends and bridge */
const OURS = /^(lo|gdv[0-9a-z-]*|gdbr[0-9a-z]*)$/

export function foreignInterfaces (): string[] {
  return Object.keys(networkInterfaces()).filter(name => !OURS.test(name))
}

export function assertIsolatedNetwork (): void {
  const foreign = foreignInterfaces()
  if (foreign.length > 0) {
    throw new Error(`refusing to enable mDNS: this network namespace has interfaces gossipd did not create (${foreign.join(', ')}); run inside 'unshare -n' or the LAN simulator`)
  }
}

export function isRoot (): boolean {
  return process.getuid?.() === 0
}

/** Run a command in a fresh network namespace that has only loopback (up). Needs root. */
export function spawnInNewNetns (cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', cmd, ...args], opts)
}
