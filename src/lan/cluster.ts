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

const BIN = fileURLToPath(new URL('../../bin/gossipd.js', import.meta.url))
const BRIDGE = fileURLToPath(new URL('./api-bridge.js', import.meta.url))
const SKEW = fileURLToPath(new URL('./skew-clock.js', import.meta.url))
export const TOPIC = 'lan'

export interface ClusterOptions {
  nodes: number
  /** hosts whose data dir lives on a tmpfs of this many bytes */
  smallDisk?: { hosts: number[], bytes: number }
  /** wall-clock offset in ms per host */
  skewMs?: Record<number, number>
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
    this.daemons[i] = this.lan.spawn(i, process.execPath, [BIN, 'start', '--data', this.dataDir(i), '--listen', '/ip4/0.0.0.0/tcp/7421', '--api', `127.0.0.1:${API_PORT}`, '--topic', TOPIC, '--log-level', 'info'], { stdio: ['ignore', logFd, logFd], env })
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

  /** waits until host i answers its API and sees at least `peers` peers */
  async ready (i: number, peers: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try { if ((await this.apis[i].status()).peers >= peers) return } catch { /* starting */ }
      if (!this.running(i)) throw new Error(`daemon h${i} exited (log: ${this.logFile(i)})`)
      if (Date.now() > deadline) throw new Error(`h${i} did not see ${peers} peers within ${timeoutMs} ms (log: ${this.logFile(i)})`)
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
