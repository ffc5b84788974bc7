// One side (raw or gossipd) of one scenario, in its own process so raw gossipsub and gossipd never share
// a heap and memory numbers are honest. Spec: JSON in argv[2]. Output: a line "@@RESULT <json>" (and
// "@@READY <json>" for the catch-up seed, which then serves until stdin closes, and "@@DONE <json>" when a
// throughput-procs node has finished its part and only serves until stdin closes). Started by runner.ts
// with any extra node flags (e.g. --cpu-prof).
import '../polyfill.js'
import { performance } from 'node:perf_hooks'
import { RssSampler, MB } from './stats.js'
import type { throughput } from './workloads/throughput.js'
import type { latency } from './workloads/latency.js'
import type { overload } from './workloads/overload.js'
import type { catchupSeed, catchup } from './workloads/catchup.js'
import type { latencyProcsNode } from './workloads/latency-procs.js'
import type { throughputProcsNode } from './workloads/throughput-procs.js'
import type { idle } from './workloads/idle.js'

const processStart = 0 // performance.now() counts from process start

function emit (tag: 'RESULT' | 'READY' | 'DONE', value: unknown): void {
  process.stdout.write(`@@${tag} ${JSON.stringify(value)}\n`)
}

/** the spec a workload function takes */
type SpecOf<F extends (spec: never, ...rest: never[]) => unknown> = Parameters<F>[0]

async function main (): Promise<void> {
  // the parent (runner.ts) built the spec for the scenario it names: trusted as that workload's spec
  const spec: unknown = JSON.parse(process.argv[2] ?? '{}')
  const rss = new RssSampler()
  let result: Record<string, unknown>
  switch ((spec as { scenario?: string }).scenario) {
    case 'throughput': result = { ...await (await import('./workloads/throughput.js')).throughput(spec as SpecOf<typeof throughput>) }; break
    case 'latency': result = await (await import('./workloads/latency.js')).latency(spec as SpecOf<typeof latency>); break
    case 'overload': result = await (await import('./workloads/overload.js')).overload(spec as SpecOf<typeof overload>, rss); break
    case 'catchup-seed': {
      await (await import('./workloads/catchup.js')).catchupSeed(spec as SpecOf<typeof catchupSeed>, info => emit('READY', info))
      result = {}
      break
    }
    case 'latency-node': result = await (await import('./workloads/latency-procs.js')).latencyProcsNode(spec as SpecOf<typeof latencyProcsNode>, info => emit('READY', info)); break
    case 'throughput-node': result = await (await import('./workloads/throughput-procs.js')).throughputProcsNode(spec as SpecOf<typeof throughputProcsNode>, info => emit('READY', info), info => emit('DONE', info)); break
    case 'catchup': result = await (await import('./workloads/catchup.js')).catchup(spec as SpecOf<typeof catchup>); break
    case 'idle': result = await (await import('./workloads/idle.js')).idle(spec as SpecOf<typeof idle>, processStart); break
    default: throw new Error(`unknown scenario ${String((spec as { scenario?: unknown }).scenario)}`)
  }
  rss.sample()
  emit('RESULT', { ...result, processPeakRssMB: rss.peak / MB, processMs: performance.now() })
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`child failed: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
