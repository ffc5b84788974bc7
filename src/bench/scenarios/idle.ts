// Idle: start-up time and RSS of one node per child process (raw libp2p host vs GossipNode), then the
// real daemon (bin/gossipd.js start, loopback only, no mDNS) when it is built. Judged: idle RSS < 120 MB,
// on the daemon when it ran, else on the GossipNode child.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { sides, type Scenario } from '../scenario.js'
import { row, type ScenarioRow } from '../table.js'
import { DAEMON_NODE_FLAGS } from '../../daemon/node-flags.js'

interface Result { startMs?: number, readyFromProcessStartMs?: number, rssMB?: number }
interface DaemonResult extends Result { error?: string }

const RSS_GOAL = 'gossipd idle RSS < 120 MB'

function daemonBin (): string { return fileURLToPath(new URL('../../../bin/gossipd.js', import.meta.url)) }

function daemonAvailable (): { usable: boolean, why: string } {
  const bin = daemonBin()
  if (!existsSync(bin)) return { usable: false, why: 'bin/gossipd.js does not exist yet: measured a child process that starts one GossipNode instead of the daemon' }
  try {
    const help = execFileSync(process.execPath, [bin, 'start', '--help'], { encoding: 'utf8', timeout: 20_000 })
    if (!help.includes('--no-mdns') || !help.includes('--listen')) return { usable: false, why: 'gossipd start --help lacks --no-mdns/--listen: measured a GossipNode child process instead' }
  } catch (err) {
    return { usable: false, why: `gossipd start --help failed (${(err as Error).message.split('\n')[0]}): measured a GossipNode child process instead` }
  }
  return { usable: true, why: 'bin/gossipd.js start --no-mdns on 127.0.0.1' }
}

/** Start the real daemon (loopback only, no mDNS), time it to its "gossipd ready" line, read its RSS after idling. */
async function daemonIdle (idleSeconds: number): Promise<DaemonResult & Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'gossipd-bench-daemon-'))
  const t0 = performance.now()
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, daemonBin(), '--data', dir, '--api', '127.0.0.1:0', 'start', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stderr.on('data', d => { err += String(d) })
  const exited = new Promise<number | null>(resolve => proc.on('exit', code => resolve(code)))
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('daemon not ready within 30 s')), 30_000)
      proc.stdout.on('data', d => {
        out += String(d)
        if (out.includes('gossipd ready')) { clearTimeout(timer); resolve(performance.now() - t0) }
      })
      void exited.then(code => { clearTimeout(timer); reject(new Error(`daemon exited with ${String(code)}: ${err.trim()}`)) })
    })
    await new Promise(resolve => setTimeout(resolve, idleSeconds * 1000))
    const status = readFileSync(`/proc/${String(proc.pid)}/status`, 'utf8')
    const rssKB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
    return { impl: 'gossipd-daemon', readyFromProcessStartMs: readyMs, idleSeconds, rssMB: rssKB / 1024 }
  } finally {
    proc.kill('SIGTERM')
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(t)
    rmSync(dir, { recursive: true, force: true })
  }
}

export const idle: Scenario = {
  name: 'idle',
  title: 'start-up time and idle RSS of one node, and of the daemon',
  run: async ({ o, results }) => {
    const idleSeconds = o.quick ? 3 : 5
    const daemon = daemonAvailable()
    const r = await sides<Result>(o, 'idle', 60_000, impl => ({ scenario: 'idle', impl, idleSeconds }))
    let d: DaemonResult | null = null
    if (daemon.usable && o.sides.includes('gossipd')) {
      process.stderr.write('  idle [gossipd daemon] ...')
      d = await daemonIdle(idleSeconds).catch((err: Error) => ({ error: err.message }))
      process.stderr.write(d.error != null ? ` FAILED: ${d.error}\n` : ' done\n')
    }
    results.idle = { ...r, daemon: d, daemonNote: daemon.why }
    const s = `idle one node, ${idleSeconds} s (raw: libp2p host; gossipd: GossipNode) in a child process`
    const libRss = r.gossipd?.rssMB
    const rows: ScenarioRow[] = [
      row(s, 'node start ms', r.raw?.startMs, r.gossipd?.startMs, 1),
      row(s, 'process start -> ready ms', r.raw?.readyFromProcessStartMs, r.gossipd?.readyFromProcessStartMs, 1),
      row(s, 'RSS MB after idle', r.raw?.rssMB, libRss, 1, d == null || d.error != null ? { text: RSS_GOAL, met: typeof libRss === 'number' ? libRss < 120 : null, value: libRss ?? null } : undefined),
    ]
    if (d == null) {
      console.error(`  note: ${daemon.why}`)
      return rows
    }
    const sd = `idle gossipd daemon (bin/gossipd.js start --no-mdns, 127.0.0.1), ${idleSeconds} s`
    if (d.error != null) return [...rows, row(sd, `FAILED: ${d.error.slice(0, 80)}`, null, null)]
    const dRss = d.rssMB
    return [
      ...rows,
      row(sd, 'spawn -> "gossipd ready" ms', r.raw?.readyFromProcessStartMs, d.readyFromProcessStartMs, 1),
      row(sd, 'RSS MB after idle', r.raw?.rssMB, dRss, 1, { text: RSS_GOAL, met: typeof dRss === 'number' ? dRss < 120 : null, value: dRss ?? null }),
    ]
  },
}
