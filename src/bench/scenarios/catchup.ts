// Catch-up: a seed process publishes N messages, then an empty node (another process) pulls them by sync.
// Judged: >= 20,000 msg/s. Disk-bound and noisy on this VM: a full run repeats it and reports the median.
import type { Options } from '../args.js'
import { startChild, runChild } from '../runner.js'
import type { Scenario } from '../scenario.js'
import { row, fmt, pct } from '../table.js'

interface SeedInfo { addr: string, publishMsgPerSec: number, synchronous: string }
interface Result {
  msgPerSec?: number
  complete?: boolean
  synchronous?: string
  elapsedMs?: number
  msgPerSecFromConnect?: number
  held?: number
  count?: number
  seed?: SeedInfo
  cpuUserS?: number
  cpuSystemS?: number
  error?: string
}

/** the catching-up process's CPU seconds (user + system) */
function cpuOf (r: Result): number | undefined {
  return typeof r.cpuUserS === 'number' && typeof r.cpuSystemS === 'number' ? r.cpuUserS + r.cpuSystemS : undefined
}

/** One catch-up: start a seed process, let it publish, time a fresh node catching up from it. */
async function catchupOnce (o: Options, run: number, of: number): Promise<Result> {
  process.stderr.write(`  catch-up [gossipd] run ${run}/${of}: seeding ...`)
  const t = Date.now()
  const seed = startChild({ scenario: 'catchup-seed', count: o.catchupCount, size: o.size, synchronous: 'NORMAL' }, { nodeFlags: [], timeoutMs: 600_000, label: 'catchup-seed', verbose: o.verbose })
  let r: Result
  try {
    const info = await Promise.race([seed.ready, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('seed did not get ready in 300 s')), 300_000).unref())]) as SeedInfo
    process.stderr.write(` ${info.publishMsgPerSec.toFixed(0)} msg/s published (synchronous ${info.synchronous}); catching up ...`)
    r = await runChild({ scenario: 'catchup', seedAddr: info.addr, count: o.catchupCount, synchronous: o.catchupSynchronous, maxSeconds: o.quick ? 40 : 120 }, { nodeFlags: o.nodeFlags, timeoutMs: (o.quick ? 60 : 180) * 1000, label: 'catchup', verbose: o.verbose }) as Result
    r.seed = info
    process.stderr.write(` ${(r.msgPerSec as number).toFixed(0)} msg/s, catcher CPU ${cpuOf(r)?.toFixed(2) ?? '?'} s (${((Date.now() - t) / 1000).toFixed(1)} s)\n`)
  } catch (err) {
    process.stderr.write(` FAILED: ${(err as Error).message}\n`)
    r = { error: (err as Error).message }
  } finally {
    seed.closeStdin()
    await seed.result.catch(() => {})
  }
  return r
}

export const catchup: Scenario = {
  name: 'catchup',
  title: 'an empty node pulls N messages from a seed by sync (gossipd only)',
  run: async ({ o, results }) => {
    if (!o.sides.includes('gossipd')) return []
    const repeats = o.quick ? 1 : 3
    const s = `catch-up ${fmt(o.catchupCount)} x ${o.size} B${repeats > 1 ? `, median of ${repeats}` : ''}`
    const runs: Result[] = []
    for (let i = 0; i < repeats; i++) runs.push(await catchupOnce(o, i + 1, repeats))
    const ok = runs.filter(x => typeof x.msgPerSec === 'number').sort((x, y) => (x.msgPerSec as number) - (y.msgPerSec as number))
    const r = ok.length > 0 ? ok[Math.floor((ok.length - 1) / 2)] : runs[0]
    results.catchup = { median: r, runs }
    const out = [
      row(s, `publish msg/s on seed (synchronous ${r.seed?.synchronous ?? 'NORMAL'})`, null, r.seed?.publishMsgPerSec),
      row(s, `catch-up msg/s (start -> all held; catcher synchronous ${r.synchronous ?? o.catchupSynchronous})`, null, r.msgPerSec, 0,
        { text: '>= 20,000 msg/s', met: typeof r.msgPerSec === 'number' ? r.msgPerSec >= 20_000 && r.complete === true : null, value: r.msgPerSec ?? null }),
    ]
    if (ok.length > 1) out.push(row(s, 'catch-up msg/s, all runs', null, ok.map(x => fmt(x.msgPerSec)).join(' / ')))
    out.push(
      row(s, 'catch-up time s', null, typeof r.elapsedMs === 'number' ? r.elapsedMs / 1000 : null, 2),
      row(s, 'msg/s from connection', null, r.msgPerSecFromConnect),
      row(s, 'catcher CPU s (user + system, start-up included)', null, cpuOf(r), 2),
      row(s, 'held / published %', null, pct(r.held, r.count), 1),
    )
    return out
  },
}
