// A simulated LAN on one machine: N network namespaces ("hosts"), each with one veth into a bridge that
// lives in its own hub namespace. Nothing is added to the machine's own namespace, so multicast (mDNS)
// and every other packet stay on this private segment. Needs root and iproute2.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

export interface LanHost { index: number, ns: string, ip: string }

const SUBNET = '10.77.0'
/** hosts are .1 to .250 of the /24; .254 is the hub's own address (addHubAddress) */
export const MAX_HOSTS = 250
export const HUB_IP = `${SUBNET}.254`

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function tc (...args: string[]): void {
  execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export function listNamespaces (): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map(l => l.split(' ')[0]).filter(Boolean)
  } catch {
    return []
  }
}

/** The namespaces of LANs this process created (their names carry its pid); other runs' are not ours to judge. */
export function ownNamespaces (): string[] {
  return listNamespaces().filter(ns => ns.startsWith(`gd${process.pid}-`))
}

/** Namespaces left behind by LAN runs whose process is gone (a crash or kill -9 of the runner). */
export function removeStaleLans (): string[] {
  const removed: string[] = []
  for (const ns of listNamespaces()) {
    const m = /^gd(\d+)-/.exec(ns)
    if (m == null) continue
    const pid = Number(m[1])
    let alive = true
    try { process.kill(pid, 0) } catch { alive = false }
    if (!alive || pid === process.pid) {
      try { ip('netns', 'del', ns); removed.push(ns) } catch { /* already gone */ }
    }
  }
  return removed
}

export class Lan {
  readonly hosts: LanHost[] = []
  readonly hub: string
  private readonly prefix: string
  private destroyed = false

  constructor (readonly size: number) {
    if (size < 1 || size > MAX_HOSTS) throw new Error(`a LAN has 1 to ${MAX_HOSTS} hosts`)
    this.prefix = `gd${process.pid}`
    this.hub = `${this.prefix}-hub`
  }

  create (): this {
    try {
      ip('netns', 'add', this.hub)
      ip('-n', this.hub, 'link', 'add', 'gdbr0', 'type', 'bridge', 'mcast_snooping', '0')
      ip('-n', this.hub, 'link', 'set', 'gdbr0', 'up')
      // the other side of a partition: hosts moved here keep their link up but reach only each other
      ip('-n', this.hub, 'link', 'add', 'gdbr1', 'type', 'bridge', 'mcast_snooping', '0')
      ip('-n', this.hub, 'link', 'set', 'gdbr1', 'up')
      for (let i = 0; i < this.size; i++) {
        const ns = `${this.prefix}-h${i}`
        const addr = `${SUBNET}.${i + 1}`
        ip('netns', 'add', ns)
        ip('-n', this.hub, 'link', 'add', `gdv${i}`, 'type', 'veth', 'peer', 'name', 'gdv0', 'netns', ns)
        ip('-n', this.hub, 'link', 'set', `gdv${i}`, 'master', 'gdbr0', 'up')
        ip('-n', ns, 'link', 'set', 'lo', 'up')
        ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'gdv0')
        ip('-n', ns, 'link', 'set', 'gdv0', 'up')
        // without this route multicast sends fail silently
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'gdv0')
        this.hosts.push({ index: i, ns, ip: addr })
      }
    } catch (err) {
      this.destroy()
      throw new Error(`could not create the simulated LAN (needs root and iproute2): ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`)
    }
    return this
  }

  /** Give the bridge an address in the hub namespace, so a process there reaches every host (and hears multicast). */
  addHubAddress (): string {
    ip('-n', this.hub, 'addr', 'add', `${HUB_IP}/24`, 'dev', 'gdbr0')
    ip('-n', this.hub, 'link', 'set', 'lo', 'up')
    ip('-n', this.hub, 'route', 'add', '224.0.0.0/4', 'dev', 'gdbr0')
    return HUB_IP
  }

  /** Run a command in the hub namespace (see addHubAddress). */
  spawnInHub (cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.hub, cmd, ...args], opts)
  }

  /** Run a command inside host i's namespace. */
  spawn (i: number, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.hosts[i].ns, cmd, ...args], opts)
  }

  exec (i: number, cmd: string, args: string[], opts: { timeoutMs?: number, input?: string } = {}): string {
    return execFileSync('ip', ['netns', 'exec', this.hosts[i].ns, cmd, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 15_000, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] })
  }

  /** Moves these hosts to the second bridge: a silent partition (no link goes down, no packet is refused). */
  partition (side: number[]): void {
    for (const i of side) ip('-n', this.hub, 'link', 'set', `gdv${i}`, 'master', 'gdbr1')
  }

  /** Every host back on the first bridge. */
  heal (): void {
    for (const h of this.hosts) ip('-n', this.hub, 'link', 'set', `gdv${h.index}`, 'master', 'gdbr0')
  }

  /**
   * Drops a random `percent` of what host i sends. The kernel has no sch_netem and no tc drop action, so an
   * htb root sends packets that a classic-BPF filter picks (`ld rand`) to a class whose pfifo holds 0 packets.
   */
  setLoss (i: number, percent: number): void {
    const ns = this.hosts[i].ns
    const threshold = Math.round(percent / 100 * 2 ** 32)
    // ld rand; jge #threshold -> ret 0 (not classified); else ret -1 (the filter's classid: the drop class)
    const bytecode = `4,32 0 0 ${0xfffff000 + 56},53 1 0 ${threshold},6 0 0 ${0xffffffff},6 0 0 0`
    tc('-n', ns, 'qdisc', 'add', 'dev', 'gdv0', 'root', 'handle', '1:', 'htb')
    tc('-n', ns, 'class', 'add', 'dev', 'gdv0', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit', 'quantum', '1514')
    tc('-n', ns, 'qdisc', 'add', 'dev', 'gdv0', 'parent', '1:1', 'handle', '10:', 'pfifo', 'limit', '0')
    tc('-n', ns, 'filter', 'add', 'dev', 'gdv0', 'parent', '1:', 'bpf', 'bytecode', bytecode, 'classid', '1:1')
  }

  /** packets dropped on host i by setLoss */
  lossDrops (i: number): number {
    const out = execFileSync('tc', ['-n', this.hosts[i].ns, '-s', 'qdisc', 'show', 'dev', 'gdv0'], { encoding: 'utf8' })
    const m = /qdisc pfifo 10:[^]*?dropped (\d+)/.exec(out)
    return m != null ? Number(m[1]) : 0
  }

  clearLoss (i: number): void {
    try { tc('-n', this.hosts[i].ns, 'qdisc', 'del', 'dev', 'gdv0', 'root') } catch { /* none set */ }
  }

  destroy (): void {
    if (this.destroyed) return
    this.destroyed = true
    for (const ns of listNamespaces()) {
      if (ns === this.hub || ns.startsWith(`${this.prefix}-h`)) {
        try { ip('netns', 'del', ns) } catch { /* already gone */ }
      }
    }
  }
}
