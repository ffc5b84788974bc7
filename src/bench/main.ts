// npm run bench: raw gossipsub and gossipd side by side on the same machine in the same run; ratios
// gossipd/raw cancel machine noise. Each side of each scenario runs in its own child process (child.ts).
//   --quick               everything in under about a minute (fewer messages, shorter runs)
//   --only a,b            scenarios: throughput2, throughput5 (or throughput), latency, latency-procs, overload,
//                         catchup, mdns, idle, mosquitto
//   --size BYTES          payload size (default 1024)
//   --nodes N             node count of the multi-node scenarios (default 5)
//   --duration SEC        latency and overload duration (default 10, quick 2)
//   --count N             throughput message count (default 10000, quick 2000)
//   --catchup-count N     catch-up message count (default 50000, quick 10000)
//   --side raw|gossipd    run only one side (for profiling)
//   --catchup-synchronous FULL|NORMAL   SQLite synchronous of the catching-up node (default FULL, as shipped)
//   --node-flags "..."    extra node flags for the child processes, e.g. "--cpu-prof --cpu-prof-dir=results/prof"
//   --verbose             forward children's output
import '../polyfill.js'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { runChild, startChild } from './runner.js'
import { spawnInNewNetns, isRoot } from '../lan/isolation.js'
import type { Impl } from './cluster.js'

interface Options {
  quick: boolean
  only: Set<string> | null
  size: number
  nodes: number
  duration: number
  count: number
  catchupCount: number
  sides: Impl[]
  catchupSynchronous: 'FULL' | 'NORMAL'
  nodeFlags: string[]
  verbose: boolean
}

const SCENARIOS = ['throughput2', 'throughput5', 'latency', 'latency-procs', 'overload', 'catchup', 'mdns', 'idle', 'mosquitto']

const KNOWN_FLAGS = ['--quick', '--only', '--size', '--nodes', '--duration', '--count', '--catchup-count', '--side', '--catchup-synchronous', '--node-flags', '--verbose']

function usage (): string {
  return `usage: npm run bench -- [options]
  --quick  --only a,b (${SCENARIOS.join(', ')})  --size BYTES  --nodes N  --duration SEC  --count N
  --catchup-count N  --side raw|gossipd  --catchup-synchronous FULL|NORMAL  --node-flags "..."  --verbose
Prints a table and writes results/bench-<time>.json and results/latest.json.`
}

function parseArgs (argv: string[]): Options {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n')
    process.exit(0)
  }
  const unknown: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].split('=')[0]
    if (!KNOWN_FLAGS.includes(flag)) { if (argv[i].startsWith('-')) unknown.push(argv[i]); continue }
    if (!['--quick', '--verbose'].includes(flag) && !argv[i].includes('=')) i++ // skip its value
  }
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')}\n${usage()}`)
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name)
    if (i >= 0) return argv[i + 1]
    const eq = argv.find(a => a.startsWith(`${name}=`))
    return eq?.slice(name.length + 1)
  }
  const quick = argv.includes('--quick')
  const num = (name: string, dflt: number): number => {
    const v = get(name)
    if (v == null) return dflt
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got ${v}`)
    return n
  }
  let only: Set<string> | null = null
  const o = get('--only')
  if (o != null) {
    only = new Set()
    for (const name of o.split(',').map(s => s.trim()).filter(Boolean)) {
      if (name === 'throughput') { only.add('throughput2'); only.add('throughput5'); continue }
      if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}; known: throughput, ${SCENARIOS.join(', ')}`)
      only.add(name)
    }
  }
  const side = get('--side')
  if (side != null && side !== 'raw' && side !== 'gossipd') throw new Error('--side is raw or gossipd')
  return {
    quick,
    only,
    size: num('--size', 1024),
    nodes: num('--nodes', 5),
    duration: num('--duration', quick ? 2 : 10),
    count: num('--count', quick ? 2_000 : 10_000),
    catchupCount: num('--catchup-count', quick ? 10_000 : 50_000),
    sides: side != null ? [side as Impl] : ['raw', 'gossipd'],
    catchupSynchronous: get('--catchup-synchronous') === 'NORMAL' ? 'NORMAL' : 'FULL',
    nodeFlags: (get('--node-flags') ?? '').split(/\s+/).filter(Boolean),
    verbose: argv.includes('--verbose'),
  }
}

interface Row { scenario: string, metric: string, raw: string, gossipd: string, ratio: string, target: string }

const rows: Row[] = []
const targets: Array<{ target: string, value: number | null, met: boolean | null }> = []
const results: Record<string, unknown> = {}

function fmt (v: unknown, digits = 0): string {
  if (v == null || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a'
  if (typeof v === 'number') return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  return String(v)
}

function ratioOf (raw: unknown, g: unknown): number | null {
  return typeof raw === 'number' && typeof g === 'number' && raw !== 0 && Number.isFinite(raw) && Number.isFinite(g) ? g / raw : null
}

function row (scenario: string, metric: string, raw: unknown, g: unknown, digits = 0, target?: { text: string, met: boolean | null, value?: number | null }): void {
  const ratio = ratioOf(raw, g)
  let t = ''
  if (target != null) {
    t = `${target.text}: ${target.met == null ? 'n/a' : target.met ? 'met' : 'NOT met'}`
    targets.push({ target: target.text, value: target.value ?? null, met: target.met })
  }
  rows.push({ scenario, metric, raw: fmt(raw, digits), gossipd: fmt(g, digits), ratio: ratio == null ? '' : `${ratio.toFixed(2)}x`, target: t })
}

function printTable (): void {
  const head: Row = { scenario: 'scenario', metric: 'metric', raw: 'raw', gossipd: 'gossipd', ratio: 'ratio', target: 'target' }
  const cols: Array<keyof Row> = ['scenario', 'metric', 'raw', 'gossipd', 'ratio', 'target']
  const w = cols.map(c => Math.max(...[head, ...rows].map(r => r[c].length)))
  const line = (r: Row): string => cols.map((c, i) => (c === 'raw' || c === 'gossipd' || c === 'ratio') ? r[c].padStart(w[i]) : r[c].padEnd(w[i])).join(' | ').trimEnd()
  console.log(line(head))
  console.log(w.map(n => '-'.repeat(n)).join('-|-'))
  let last = ''
  for (const r of rows) {
    console.log(line(r.scenario === last ? { ...r, scenario: '' } : r))
    last = r.scenario
  }
}

/** Run one scenario for each side, with progress on stderr; a failed side is recorded as { error }. */
async function eachSide<T> (o: Options, label: string, run: (impl: Impl) => Promise<T>): Promise<Partial<Record<Impl, T>>> {
  const out: Partial<Record<Impl, T>> = {}
  for (const impl of o.sides) {
    process.stderr.write(`  ${label} [${impl}] ...`)
    const t = Date.now()
    try {
      out[impl] = await run(impl)
      process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
    } catch (err) {
      process.stderr.write(` FAILED: ${(err as Error).message}\n`)
      ;(out as any)[impl] = { error: (err as Error).message }
    }
  }
  return out
}

/** eachSide with each side in its own child process (child.ts) */
async function sides<T> (o: Options, label: string, timeoutMs: number, spec: (impl: Impl) => Record<string, unknown>): Promise<Partial<Record<Impl, T>>> {
  return await eachSide<T>(o, label, async impl => await runChild(spec(impl), { nodeFlags: o.nodeFlags, timeoutMs, label: `${label}/${impl}`, verbose: o.verbose }))
}

function want (o: Options, name: string): boolean { return o.only == null || o.only.has(name) }

async function main (): Promise<void> {
  const o = parseArgs(process.argv.slice(2))
  const started = new Date()
  const g = gitInfo()
  if (g != null) console.log(`commit ${g.commit.slice(0, 10)}${g.dirty ? ' (src has uncommitted changes)' : ''}`)
  console.log(`gossipd bench${o.quick ? ' (quick)' : ''}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}; payload ${o.size} B, ${o.nodes} nodes; all nodes on 127.0.0.1`)
  const throughputTimeout = (o.quick ? 60 : 240) * 1000
  const maxSeconds = o.quick ? 30 : 120
  let rawCapacity: number | null = null

  for (const n of [2, o.nodes]) {
    const name = n === 2 ? 'throughput2' : 'throughput5'
    if (!want(o, name) && !(name === 'throughput5' && want(o, 'overload') && o.sides.includes('raw'))) continue
    // run only for the overload rate: the raw side is enough
    const r = await sides<any>(want(o, name) ? o : { ...o, sides: ['raw'] }, `throughput ${n} nodes`, throughputTimeout, impl => ({ scenario: 'throughput', impl, nodes: n, count: o.count, size: o.size, maxSeconds }))
    results[`throughput_${n}`] = r
    if (n === o.nodes && typeof r.raw?.msgPerSec === 'number') rawCapacity = r.raw.msgPerSec
    if (!want(o, name)) continue
    const s = `throughput ${n} nodes, ${o.count} x ${o.size} B, signed`
    const ratio = ratioOf(r.raw?.msgPerSec, r.gossipd?.msgPerSec)
    const goal = n === 2 ? 0.9 : 2
    row(s, 'msg/s to every subscriber', r.raw?.msgPerSec, r.gossipd?.msgPerSec, 0,
      { text: n === 2 ? '>= 0.9x raw (durable)' : '>= 2x raw (signed 5-node)', met: ratio == null ? null : ratio >= goal && r.gossipd?.complete === true, value: ratio })
    row(s, 'delivered / published %', pct(r.raw?.delivered, r.raw?.published), pct(r.gossipd?.delivered, r.gossipd?.published), 1)
    row(s, 'publish ack msg/s', r.raw?.publishMsgPerSec, r.gossipd?.publishMsgPerSec)
    row(s, 'dropped connections', r.raw?.drops?.connectionClose, r.gossipd?.drops?.connectionClose)
  }

  if (want(o, 'latency')) {
    const r = await sides<any>(o, 'latency', (o.duration + 60) * 1000, impl => ({ scenario: 'latency', impl, nodes: o.nodes, rate: 200, seconds: o.duration, size: o.size }))
    results.latency = r
    const s = `latency ${o.nodes} nodes, 200 msg/s, ${o.duration} s`
    row(s, 'p50 publish->consumer ms', r.raw?.p50Ms, r.gossipd?.p50Ms, 2)
    const p99 = r.gossipd?.p99Ms
    row(s, 'p99 publish->consumer ms', r.raw?.p99Ms, p99, 2, { text: 'gossipd p99 < 10 ms', met: typeof p99 === 'number' ? p99 < 10 && r.gossipd?.delivered === r.gossipd?.published : null, value: p99 ?? null })
    row(s, 'max ms', r.raw?.maxMs, r.gossipd?.maxMs, 2)
    row(s, 'publish ack p99 ms', r.raw?.publishAckP99Ms, r.gossipd?.publishAckP99Ms, 2)
    row(s, 'delivered / published %', pct(r.raw?.delivered, r.raw?.published), pct(r.gossipd?.delivered, r.gossipd?.published), 1)
  }

  // not part of --quick unless asked for by --only: it alone would take half the minute
  if (want(o, 'latency-procs') && (!o.quick || o.only != null)) {
    // the same load with one process per node, as on a LAN (reported alongside; the target is judged above)
    const { latencyProcs } = await import('./workloads/latency-procs.js')
    const r = await eachSide<any>(o, 'latency, one process per node', async impl =>
      await latencyProcs({ impl, nodes: o.nodes, rate: 200, seconds: o.duration, size: o.size }, { nodeFlags: o.nodeFlags, verbose: o.verbose }))
    results.latency_procs = r
    const s = `latency ${o.nodes} nodes in ${o.nodes} processes, 200 msg/s, ${o.duration} s`
    row(s, 'p50 publish->consumer ms', r.raw?.p50Ms, r.gossipd?.p50Ms, 2)
    row(s, 'p99 publish->consumer ms', r.raw?.p99Ms, r.gossipd?.p99Ms, 2)
    row(s, 'max ms', r.raw?.maxMs, r.gossipd?.maxMs, 2)
    row(s, 'not delivered by the end', r.raw?.missing, r.gossipd?.missing)
  }

  if (want(o, 'overload')) {
    const capacity = rawCapacity ?? 2_000
    const rate = Math.round(capacity * 5)
    const settleSeconds = o.quick ? 4 : 10
    const settleMaxSeconds = o.quick ? 15 : 60
    const r = await sides<any>(o, 'overload', (o.duration * 6 + settleMaxSeconds + 120) * 1000, impl => ({ scenario: 'overload', impl, nodes: o.nodes, rate, seconds: o.duration, size: o.size, settleSeconds, settleMaxSeconds }))
    results.overload = { rate, rawCapacity: capacity, capacityMeasured: rawCapacity != null, ...r }
    const s = `overload ${o.nodes} nodes, ${fmt(rate)} msg/s (5x raw ${rawCapacity != null ? 'measured' : 'ASSUMED'} capacity) for ${o.duration} s`
    row(s, 'published (calls issued)', r.raw?.issued, r.gossipd?.issued)
    row(s, 'publish phase s (wanted ' + String(o.duration) + ')', sec(r.raw?.publishPhaseMs), sec(r.gossipd?.publishPhaseMs), 1)
    row(s, `undelivered after ${settleSeconds} s settle`, r.raw?.undeliveredAtFixedSettle, r.gossipd?.undeliveredAtFixedSettle)
    const lost = r.gossipd?.lost
    row(s, `lost (settle on while progressing, <= ${settleMaxSeconds} s)`, r.raw?.lost, lost, 0, { text: '0 lost', met: typeof lost === 'number' ? lost === 0 : null, value: lost ?? null })
    row(s, 'settle time s', sec(r.raw?.settleMs), sec(r.gossipd?.settleMs), 1)
    row(s, 'gossipd: gaps given up (seqs skipped by consumers)', null, r.gossipd?.extra == null ? null : `${String(r.gossipd.extra.gapsReported)} (${String(r.gossipd.extra.gapSeqsSkipped)})`)
    row(s, 'gossipd: held by slowest store / issued %', null, r.gossipd?.extra == null ? null : pct(Math.min(...Object.entries(r.gossipd.extra).filter(([k]) => k.startsWith('held_node')).map(([, v]) => v as number)), r.gossipd.issued), 1)
    const dropped = r.gossipd == null || r.gossipd.connectionCloses == null ? null : r.gossipd.connectionCloses + r.gossipd.peerDisconnects
    row(s, 'dropped connections (close events)', r.raw?.connectionCloses, r.gossipd?.connectionCloses, 0, { text: '0 dropped', met: dropped == null ? null : dropped === 0, value: dropped })
    row(s, 'peer:disconnect events', r.raw?.peerDisconnects, r.gossipd?.peerDisconnects)
    row(s, 'max publish latency ms', r.raw?.maxPublishMs, r.gossipd?.maxPublishMs, 1)
    row(s, 'peak RSS MB', r.raw?.peakRssMB, r.gossipd?.peakRssMB, 0)
    row(s, 'publish errors', r.raw?.publishErrors, r.gossipd?.publishErrors)
  }

  if (want(o, 'catchup') && o.sides.includes('gossipd')) {
    // disk-bound and noisy on this VM: repeat and report the median run
    const repeats = o.quick ? 1 : 3
    const s = `catch-up ${fmt(o.catchupCount)} x ${o.size} B${repeats > 1 ? `, median of ${repeats}` : ''}`
    const runs: any[] = []
    for (let i = 0; i < repeats; i++) runs.push(await catchupOnce(o, i + 1, repeats))
    const ok = runs.filter(x => typeof x.msgPerSec === 'number').sort((x, y) => x.msgPerSec - y.msgPerSec)
    const r = ok.length > 0 ? ok[Math.floor((ok.length - 1) / 2)] : runs[0]
    results.catchup = { median: r, runs }
    row(s, `publish msg/s on seed (synchronous ${r.seed?.synchronous ?? 'NORMAL'})`, null, r.seed?.publishMsgPerSec)
    row(s, `catch-up msg/s (start -> all held; catcher synchronous ${r.synchronous ?? o.catchupSynchronous})`, null, r.msgPerSec, 0,
      { text: '>= 20,000 msg/s', met: typeof r.msgPerSec === 'number' ? r.msgPerSec >= 20_000 && r.complete === true : null, value: r.msgPerSec ?? null })
    if (ok.length > 1) row(s, 'catch-up msg/s, all runs', null, ok.map(x => fmt(x.msgPerSec)).join(' / '))
    row(s, 'catch-up time s', null, typeof r.elapsedMs === 'number' ? r.elapsedMs / 1000 : null, 2)
    row(s, 'msg/s from connection', null, r.msgPerSecFromConnect)
    row(s, 'held / published %', null, pct(r.held, r.count), 1)
  }

  if (want(o, 'mdns') && o.sides.includes('gossipd')) {
    const s = 'mDNS discovery, 3 nodes, netns'
    let r: any
    if (!isRoot()) {
      r = { skipped: 'needs root to create a network namespace' }
    } else {
      process.stderr.write('  mdns [gossipd] ...')
      r = await mdnsProbe(o.nodeFlags).catch(err => ({ error: (err as Error).message }))
      process.stderr.write(r.error != null ? ` FAILED: ${String(r.error)}\n` : ' done\n')
    }
    results.mdns = r
    if (r.skipped != null) row(s, `skipped: ${String(r.skipped)}`, null, null)
    else {
      row(s, 'start -> all discovered ms', null, r.discoveredMs)
      row(s, 'start -> first delivery ms', null, r.firstDeliveryMs)
    }
  }

  if (want(o, 'idle')) {
    const idleSeconds = o.quick ? 3 : 5
    const daemon = daemonAvailable()
    const r = await sides<any>(o, 'idle', 60_000, impl => ({ scenario: 'idle', impl, idleSeconds }))
    let d: any = null
    if (daemon.usable && o.sides.includes('gossipd')) {
      process.stderr.write('  idle [gossipd daemon] ...')
      d = await daemonIdle(idleSeconds).catch(err => ({ error: (err as Error).message }))
      process.stderr.write(d.error != null ? ` FAILED: ${String(d.error)}\n` : ' done\n')
    }
    results.idle = { ...r, daemon: d, daemonNote: daemon.why }
    const s = `idle one node, ${idleSeconds} s (raw: libp2p host; gossipd: GossipNode) in a child process`
    row(s, 'node start ms', r.raw?.startMs, r.gossipd?.startMs, 1)
    row(s, 'process start -> ready ms', r.raw?.readyFromProcessStartMs, r.gossipd?.readyFromProcessStartMs, 1)
    const libRss = r.gossipd?.rssMB
    const dRss = d?.rssMB
    row(s, 'RSS MB after idle', r.raw?.rssMB, libRss, 1, d == null || d.error != null ? { text: 'gossipd idle RSS < 120 MB', met: typeof libRss === 'number' ? libRss < 120 : null, value: libRss ?? null } : undefined)
    if (d != null) {
      const sd = `idle gossipd daemon (bin/gossipd.js start --no-mdns, 127.0.0.1), ${idleSeconds} s`
      if (d.error != null) row(sd, `FAILED: ${String(d.error).slice(0, 80)}`, null, null)
      else {
        row(sd, 'spawn -> "gossipd ready" ms', r.raw?.readyFromProcessStartMs, d.readyFromProcessStartMs, 1)
        row(sd, 'RSS MB after idle', r.raw?.rssMB, dRss, 1, { text: 'gossipd idle RSS < 120 MB', met: typeof dRss === 'number' ? dRss < 120 : null, value: dRss ?? null })
      }
    } else console.error(`  note: ${daemon.why}`)
  }

  if (want(o, 'mosquitto')) {
    const found = (() => { try { return execFileSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).trim() } catch { return '' } })()
    const why = found === ''
      ? 'skipped: mosquitto is not installed (command -v mosquitto found nothing; the benchmark does not install it)'
      : `skipped: mosquitto found at ${found}, but the MQTT reference scenario is not implemented (it needs the mqtt client as a devDependency)`
    results.mosquitto = { skipped: why }
    rows.push({ scenario: 'central broker reference (mosquitto, QoS 1)', metric: why, raw: '', gossipd: '', ratio: '', target: '' })
  }

  console.log('')
  printTable()
  console.log('')
  const met = targets.filter(t => t.met === true).length
  console.log(`targets: ${met} of ${targets.length} met${targets.some(t => t.met == null) ? ` (${targets.filter(t => t.met == null).length} not measured)` : ''}`)
  for (const t of targets) console.log(`  ${t.met == null ? 'n/a    ' : t.met ? 'met    ' : 'NOT met'}  ${t.target}${t.value != null ? ` (${fmt(t.value, 2)})` : ''}`)

  const dir = fileURLToPath(new URL('../../results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
    options: { ...o, only: o.only == null ? null : [...o.only] },
    git: gitInfo(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, totalMemGB: totalmem() / 2 ** 30, node: process.version },
    results,
    table: rows,
    targets,
  }
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  writeFileSync(`${dir}bench-${stamp}.json`, JSON.stringify(report, null, 2))
  writeFileSync(`${dir}latest.json`, JSON.stringify(report, null, 2))
  console.log(`\nwrote results/bench-${stamp}.json and results/latest.json`)
}

async function catchupOnce (o: Options, run: number, of: number): Promise<any> {
  process.stderr.write(`  catch-up [gossipd] run ${run}/${of}: seeding ...`)
  const t = Date.now()
  const seed = startChild({ scenario: 'catchup-seed', count: o.catchupCount, size: o.size, synchronous: 'NORMAL' }, { nodeFlags: [], timeoutMs: 600_000, label: 'catchup-seed', verbose: o.verbose })
  let r: any
  try {
    const info = await Promise.race([seed.ready, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('seed did not get ready in 300 s')), 300_000).unref())]) as any
    process.stderr.write(` ${(info.publishMsgPerSec as number).toFixed(0)} msg/s published (synchronous ${String(info.synchronous)}); catching up ...`)
    r = await runChild({ scenario: 'catchup', seedAddr: info.addr, count: o.catchupCount, synchronous: o.catchupSynchronous, maxSeconds: o.quick ? 40 : 120 }, { nodeFlags: o.nodeFlags, timeoutMs: (o.quick ? 60 : 180) * 1000, label: 'catchup', verbose: o.verbose })
    r.seed = info
    process.stderr.write(` ${(r.msgPerSec as number).toFixed(0)} msg/s (${((Date.now() - t) / 1000).toFixed(1)} s)\n`)
  } catch (err) {
    process.stderr.write(` FAILED: ${(err as Error).message}\n`)
    r = { error: (err as Error).message }
  } finally {
    seed.closeStdin()
    await seed.result.catch(() => {})
  }
  return r
}

function gitInfo (): { commit: string, dirty: boolean } | null {
  try {
    const cwd = fileURLToPath(new URL('../../', import.meta.url))
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8' }).trim() !== ''
    return { commit, dirty }
  } catch { return null }
}

function sec (ms: unknown): number | null {
  return typeof ms === 'number' ? ms / 1000 : null
}

function pct (a: unknown, b: unknown): number | null {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? 100 * a / b : null
}

function daemonBin (): string { return fileURLToPath(new URL('../../bin/gossipd.js', import.meta.url)) }

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
async function daemonIdle (idleSeconds: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'gossipd-bench-daemon-'))
  const t0 = performance.now()
  const proc = spawn(process.execPath, [daemonBin(), '--data', dir, '--api', '127.0.0.1:0', 'start', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stderr!.on('data', d => { err += String(d) })
  const exited = new Promise<number | null>(resolve => proc.on('exit', code => resolve(code)))
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('daemon not ready within 30 s')), 30_000)
      proc.stdout!.on('data', d => {
        out += String(d)
        if (out.includes('gossipd ready')) { clearTimeout(timer); resolve(performance.now() - t0) }
      })
      void exited.then(code => { clearTimeout(timer); reject(new Error(`daemon exited with ${String(code)}: ${err.trim()}`)) })
    })
    await new Promise(resolve => setTimeout(resolve, idleSeconds * 1000))
    const status = readFileSync(`/proc/${proc.pid!}/status`, 'utf8')
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

async function mdnsProbe (nodeFlags: string[]): Promise<any> {
  const probe = fileURLToPath(new URL('../lan/mdns-probe.js', import.meta.url))
  const child = spawnInNewNetns(process.execPath, [...nodeFlags, probe, '3'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', d => { out += String(d) })
  child.stderr!.on('data', d => { err += String(d) })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`mdns probe exited with ${String(code)}: ${err.trim()}`)
  return JSON.parse(out.trim().split('\n').pop()!)
}

main().then(() => process.exit(0), err => {
  console.error(err)
  process.exit(1)
})
