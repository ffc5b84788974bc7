// "Start several daemons on a LAN", on one machine: N real daemon processes, one per network namespace on
// a private bridge, mDNS as the only discovery. Publishes through the CLI, checks every daemon got it,
// kills one with -9, publishes more, restarts it and checks it caught up. Cleans everything up, also on
// failure or Ctrl-C. Used by `npm run lan` and by the LAN test.
import { mkdtempSync, rmSync, existsSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { Lan, MAX_HOSTS, removeStaleLans } from './netns.js'
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js'

const BIN = fileURLToPath(new URL('../../bin/gossipd.js', import.meta.url))
const TOPIC = 'lan'

export interface LanStep { step: string, ms: number, detail?: string }
export interface LanReport { nodes: number, ok: boolean, steps: LanStep[], error?: string, logsDir?: string }

export interface LanOptions {
  nodes: number
  /** messages published while one daemon is down */
  backlog?: number
  /** overall deadline for each wait */
  waitMs?: number
  log?: (line: string) => void
  /** keep data dirs and daemon logs (always kept on failure) */
  keepLogs?: boolean
}

export async function runLanScenario (opts: LanOptions): Promise<LanReport> {
  const n = opts.nodes
  if (!Number.isInteger(n) || n < 2 || n > MAX_HOSTS) throw new Error(`--nodes must be 2 to ${MAX_HOSTS}`)
  const backlog = opts.backlog ?? 25
  // every poll runs the CLI once per daemon: a big LAN needs longer
  const waitMs = opts.waitMs ?? Math.max(30_000, n * 2_000)
  const log = opts.log ?? (() => {})
  const steps: LanStep[] = []
  const t0 = Date.now()
  const mark = (step: string, detail?: string): void => {
    steps.push({ step, ms: Date.now() - t0, detail })
    log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${step}${detail != null ? `: ${detail}` : ''}`)
  }

  const stale = removeStaleLans()
  if (stale.length > 0) mark('removed stale namespaces', stale.join(' '))
  const work = mkdtempSync(join(tmpdir(), 'gossipd-lan-'))
  const lan = new Lan(n)
  const daemons: Array<ChildProcess | undefined> = []
  const dataDir = (i: number): string => join(work, `h${i}`)

  const cleanup = (): void => {
    for (const d of daemons) if (d != null && d.exitCode == null) d.kill('SIGKILL')
    lan.destroy()
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup()
    log(`interrupted by ${sig}; namespaces and daemons removed`)
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const cli = (i: number, args: string[], input?: string): string =>
    lan.exec(i, process.execPath, [BIN, ...args, '--data', dataDir(i)], { input, timeoutMs: 20_000 })
  const startDaemon = (i: number): void => {
    const logFd = openSync(join(work, `h${i}.log`), 'a')
    daemons[i] = lan.spawn(i, process.execPath, [...DAEMON_NODE_FLAGS, BIN, 'start', '--data', dataDir(i), '--listen', '/ip4/0.0.0.0/tcp/7421', '--api', '127.0.0.1:7420', '--topic', TOPIC, '--log-level', 'info'], { stdio: ['ignore', logFd, logFd] })
    closeSync(logFd)
  }
  const until = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + waitMs
    for (;;) {
      let ok = false
      try { ok = check() } catch { ok = false }
      if (ok) return
      if (Date.now() > deadline) throw new Error(`timed out after ${waitMs} ms waiting for ${what} (daemon logs in ${work})`)
      const dead = daemons.findIndex(d => d != null && d.exitCode != null)
      if (dead >= 0) throw new Error(`daemon on host ${dead} exited with ${daemons[dead]!.exitCode} (log: ${join(work, `h${dead}.log`)})`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
  const status = (i: number): { peers: number, peerId: string } => JSON.parse(cli(i, ['status', '--json']))
  // connections are bounded (8 by default), so "connected" means a path from every daemon to every other
  const ids: string[] = []
  const connectedGraph = (): boolean => {
    for (const h of lan.hosts) ids[h.index] ??= status(h.index).peerId
    const peersOf = lan.hosts.map(h => (JSON.parse(cli(h.index, ['peers', '--json'])) as Array<{ id: string }>).map(p => ids.indexOf(p.id)))
    const seen = new Set([0])
    const todo = [0]
    for (let i = todo.pop(); i != null; i = todo.pop()) for (const j of peersOf[i]) if (j >= 0 && !seen.has(j)) { seen.add(j); todo.push(j) }
    return seen.size === n
  }
  const history = (i: number): Array<{ payload: string, origin: string, seq: number }> =>
    cli(i, ['history', TOPIC, '--json', '--limit', '10000']).split('\n').filter(Boolean).flatMap(l => {
      const v = JSON.parse(l)
      return Array.isArray(v) ? v : [v]
    })

  try {
    if (!existsSync(BIN)) throw new Error(`${BIN} not found: run npm run build`)
    lan.create()
    mark('created namespaces', lan.hosts.map(h => `${h.ns}=${h.ip}`).join(' '))
    for (let i = 0; i < n; i++) startDaemon(i)
    mark('started daemons', `${n} × gossipd start (mDNS only, no static peers)`)
    await until('every daemon to reach all others by mDNS-found connections', connectedGraph)
    mark('all daemons see each other')

    cli(0, ['pub', TOPIC, 'hello from h0'])
    await until('every daemon to hold the first message', () => lan.hosts.every(h => history(h.index).some(m => m.payload === 'hello from h0')))
    mark('every daemon got the message published through the CLI on h0')

    const victim = n - 1
    daemons[victim]!.kill('SIGKILL')
    await new Promise(resolve => daemons[victim]!.once('exit', resolve))
    mark(`killed the daemon on h${victim} with SIGKILL`)
    const lines = Array.from({ length: backlog }, (_, k) => `while h${victim} was down #${k + 1}`)
    cli(0, ['pub', TOPIC], lines.join('\n') + '\n')
    mark(`published ${backlog} messages on h0 through the CLI (stdin)`)

    startDaemon(victim)
    mark(`restarted the daemon on h${victim}`)
    await until(`h${victim} to catch up`, () => {
      const h = history(victim)
      return lines.every(l => h.some(m => m.payload === l))
    })
    const h = history(victim)
    const payloads = h.map(m => m.payload)
    if (new Set(payloads).size !== payloads.length) throw new Error(`h${victim} holds duplicates`)
    mark(`h${victim} caught up`, `${h.length} messages, no duplicates`)
    return { nodes: n, ok: true, steps, logsDir: opts.keepLogs === true ? work : undefined }
  } catch (err) {
    mark('FAILED', (err as Error).message)
    return { nodes: n, ok: false, steps, error: (err as Error).message, logsDir: work }
  } finally {
    for (const d of daemons) if (d != null && d.exitCode == null) d.kill('SIGTERM')
    await Promise.all(daemons.map(async d => {
      if (d == null || d.exitCode != null) return
      await new Promise<void>(resolve => {
        const t = setTimeout(() => { d.kill('SIGKILL'); resolve() }, 5_000)
        d.once('exit', () => { clearTimeout(t); resolve() })
      })
    }))
    cleanup()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    const failed = steps.some(s => s.step === 'FAILED')
    if (!failed && opts.keepLogs !== true) rmSync(work, { recursive: true, force: true })
    mark('cleaned up', failed ? `namespaces removed; logs kept in ${work}` : 'namespaces and data dirs removed')
  }
}
