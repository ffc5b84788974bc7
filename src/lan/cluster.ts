// N real daemons on the simulated LAN for the fault runs: one per namespace, mDNS the only discovery, each
// reachable by the checker through its api-bridge socket. Knows how to kill, stop, restart, skew a daemon's
// clock and put its data dir on a small tmpfs; cleanup() stops every process it started (by pid), unmounts
// and removes every namespace, also after a failure.
import { mkdtempSync, mkdirSync, rmSync, openSync, closeSync, existsSync } from 'node:fs'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Lan, removeStaleLans } from './netns.js'
import { NodeApi, API_PORT } from './node-api.js'
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js'

const BIN = fileURLToPath(new URL('../../bin/gossipd.js', import.meta.url))
// through dist/ so that the same paths work from src/ (vitest) and from dist/ (npm run lan)
const BRIDGE = fileURLToPath(new URL('../../dist/lan/api-bridge.js', import.meta.url))
const SKEW = fileURLToPath(new URL('../../dist/lan/skew-clock.js', import.meta.url))
export const TOPIC = 'lan'

export interface ClusterOptions {
  nodes: number
  /** hosts whose data dir lives on a tmpfs of this many bytes */
  smallDisk?: { hosts: number[], bytes: number }
  /** wall-clock offset in ms per host */
  skewMs?: Record<number, number>
  /** topics every daemon joins (default [TOPIC]); none leaves connections idle (no sync pulls) */
  topics?: string[]
}

export class Cluster {
  readonly lan: Lan
  readonly work: string
  readonly apis: NodeApi[] = []
  private readonly daemons: Array<ChildProcess | undefined> = []
  private readonly bridges: ChildProcess[] = []
  private readonly mounts: string[] = []
  private readonly stopped = new Set<number>()

  constructor (readonly opts: ClusterOptions) {
    if (!existsSync(BIN) || !existsSync(BRIDGE)) throw new Error('dist/ is missing: run npm run build')
    removeStaleLans()
    this.lan = new Lan(opts.nodes)
    this.work = mkdtempSync(join(tmpdir(), 'gossipd-faults-'))
  }

  get size (): number { return this.opts.nodes }
  dataDir (i: number): string { return join(this.work, `h${i}`) }
  logFile (i: number): string { return join(this.work, `h${i}.log`) }

  async create (): Promise<void> {
    this.lan.create()
    for (let i = 0; i < this.size; i++) {
      mkdirSync(this.dataDir(i))
      if (this.opts.smallDisk?.hosts.includes(i) === true) {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.opts.smallDisk.bytes},mode=0700`, 'gossipd-lan', this.dataDir(i)])
        this.mounts.push(this.dataDir(i))
      }
      const sock = join(this.work, `h${i}.sock`)
      this.bridges.push(this.lan.spawn(i, process.execPath, [BRIDGE, sock, String(API_PORT)], { stdio: 'ignore' }))
      this.apis.push(new NodeApi(sock, this.dataDir(i)))
    }
    for (let i = 0; i < this.size; i++) this.start(i)
  }

  start (i: number): void {
    const logFd = openSync(this.logFile(i), 'a')
    const skew = this.opts.skewMs?.[i]
    const env = { ...process.env }
    if (skew != null) {
      env.GOSSIPD_LAN_SKEW_MS = String(skew)
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${SKEW}`.trim()
    }
    this.daemons[i] = this.lan.spawn(i, process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'start', '--data', this.dataDir(i), '--listen', '/ip4/0.0.0.0/tcp/7421', '--api', `127.0.0.1:${API_PORT}`, ...(this.opts.topics ?? [TOPIC]).flatMap(t => ['--topic', t]), '--log-level', 'info'], { stdio: ['ignore', logFd, logFd], env })
    closeSync(logFd)
    this.stopped.delete(i)
  }

  running (i: number): boolean {
    const d = this.daemons[i]
    return d != null && d.exitCode == null && d.signalCode == null
  }

  /** sends a signal to host i's daemon (`ip netns exec` execs it, so the pid is the daemon's) */
  signal (i: number, sig: NodeJS.Signals): void {
    const d = this.daemons[i]
    if (d == null || !this.running(i)) return
    d.kill(sig)
    if (sig === 'SIGSTOP') this.stopped.add(i)
    if (sig === 'SIGCONT') this.stopped.delete(i)
  }

  async exited (i: number, timeoutMs = 10_000): Promise<void> {
    const d = this.daemons[i]
    if (d == null || !this.running(i)) return
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { d.kill('SIGKILL'); resolve() }, timeoutMs)
      d.once('exit', () => { clearTimeout(t); resolve() })
    })
  }

  async kill9 (i: number): Promise<void> {
    this.signal(i, 'SIGKILL')
    await this.exited(i)
  }

  async restart (i: number, how: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    if (this.stopped.has(i)) this.signal(i, 'SIGCONT')
    this.signal(i, how)
    await this.exited(i)
    this.start(i)
  }

  /**
   * Waits for every daemon to see every other; on a loaded machine mDNS dials can lag, so after
   * `fullMeshMs` a connected peer graph is enough (gossip and sync reach everyone through it).
   * Returns 'full mesh' or 'connected'.
   */
  async meshed (fullMeshMs: number, timeoutMs: number): Promise<string> {
    const start = Date.now()
    for (;;) {
      let graph: Array<Set<number>> | undefined
      try {
        const ids = this.apis.map(a => a.peerId())
        const lists = await Promise.all(this.apis.map(async a => await a.peers()))
        graph = lists.map(l => new Set(l.map(id => ids.indexOf(id)).filter(j => j >= 0)))
      } catch { /* still starting */ }
      if (graph != null) {
        if (graph.every(s => s.size >= this.size - 1)) return 'full mesh'
        const seen = new Set([0])
        for (const todo = [0]; todo.length > 0;) for (const j of graph[todo.pop()!]) if (!seen.has(j)) { seen.add(j); todo.push(j) }
        if (Date.now() - start > fullMeshMs && seen.size === this.size) return `connected (degrees ${graph.map(s => s.size).join(' ')})`
      }
      const dead = this.daemons.findIndex((_, i) => !this.running(i))
      if (dead >= 0) throw new Error(`daemon h${dead} exited (log: ${this.logFile(dead)})`)
      if (Date.now() - start > timeoutMs) throw new Error(`the daemons did not connect within ${timeoutMs} ms (peers per node: ${graph?.map(s => s.size).join(' ') ?? 'no answer'}; logs in ${this.work})`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }

  async cleanup (keep: boolean): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      if (this.stopped.has(i)) this.signal(i, 'SIGCONT')
      this.signal(i, 'SIGTERM')
    }
    await Promise.all(this.daemons.map(async (_, i) => { await this.exited(i, 5_000) }))
    for (const b of this.bridges) if (b.exitCode == null && b.signalCode == null) b.kill('SIGTERM')
    for (const m of this.mounts) {
      try { execFileSync('umount', [m], { stdio: 'ignore' }) } catch { /* busy: lazy */ try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }) } catch { /* gone */ } }
    }
    this.lan.destroy()
    if (!keep) rmSync(this.work, { recursive: true, force: true })
  }

  /** emergency cleanup on a signal: synchronous, SIGKILL everything we started */
  killAllNow (): void {
    for (const d of this.daemons) if (d != null && d.exitCode == null) d.kill('SIGKILL')
    for (const b of this.bridges) if (b.exitCode == null) b.kill('SIGKILL')
    for (const m of this.mounts) { try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }) } catch { /* gone */ } }
    this.lan.destroy()
  }
}
