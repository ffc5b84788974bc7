// One side (raw or gossipd) of one scenario, in its own process so raw gossipsub and gossipd never share
// a heap and memory numbers are honest. Spec: JSON in argv[2]. Output: a line "@@RESULT <json>" (and
// "@@READY <json>" for the catch-up seed, which then serves until stdin closes). Started by runner.ts
// with any extra node flags (e.g. --cpu-prof).
import '../polyfill.js'
import { performance } from 'node:perf_hooks'
import { RssSampler, MB } from './stats.js'

const processStart = 0 // performance.now() counts from process start

function emit (tag: 'RESULT' | 'READY', value: unknown): void {
  process.stdout.write(`@@${tag} ${JSON.stringify(value)}\n`)
}

async function main (): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as { scenario: string } & Record<string, any>
  const rss = new RssSampler()
  let result: Record<string, unknown>
  switch (spec.scenario) {
    case 'throughput': result = { ...await (await import('./workloads/throughput.js')).throughput(spec as any) }; break
    case 'latency': result = await (await import('./workloads/latency.js')).latency(spec as any); break
    case 'overload': result = await (await import('./workloads/overload.js')).overload(spec as any, rss); break
    case 'catchup-seed': {
      await (await import('./workloads/catchup.js')).catchupSeed(spec as any, info => emit('READY', info))
      result = {}
      break
    }
    case 'latency-node': result = await (await import('./workloads/latency-procs.js')).latencyProcsNode(spec as any, info => emit('READY', info)); break
    case 'catchup': result = await (await import('./workloads/catchup.js')).catchup(spec as any); break
    case 'idle': result = await (await import('./workloads/idle.js')).idle(spec as any, processStart); break
    default: throw new Error(`unknown scenario ${spec.scenario}`)
  }
  rss.sample()
  emit('RESULT', { ...result, processPeakRssMB: rss.peak / MB, processMs: performance.now() })
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`child failed: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
