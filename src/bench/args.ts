// Command line of npm run bench:
//   --quick               everything in under about a minute (fewer messages, shorter runs)
//   --only a,b            scenarios by name (see --help); throughput means throughput2 and throughput5
//   --size BYTES          payload size (default 1024)
//   --nodes N             node count of the multi-node scenarios (default 5)
//   --scale-nodes 5,10    swarm sizes of the scale scenario (default 5,10,20,50)
//   --scale-rate N        messages per second while the scale scenario's 100 messages spread (default 10)
//   --duration SEC        latency and overload duration (default 10, quick 2)
//   --count N             throughput message count (default 10000, quick 2000)
//   --catchup-count N     catch-up message count (default 50000, quick 10000)
//   --side raw|gossipd    run only one side (for profiling)
//   --catchup-synchronous FULL|NORMAL   SQLite synchronous of the catching-up node (default FULL, as shipped)
//   --node-flags "..."    extra node flags for the child processes, e.g. "--cpu-prof --cpu-prof-dir=results/prof"
//   --verbose             forward children's output
import type { Impl } from './cluster.js'

export interface Options {
  quick: boolean
  only: Set<string> | null
  /** the swarm sizes the scale scenario runs (--scale-nodes 5,10) */
  scaleNodes: number[]
  /** messages per second of the scale scenario's spread (--scale-rate) */
  scaleRate: number
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

/** what usage() lists: each scenario's name and one-line title */
export interface ScenarioName { name: string, title: string }

const KNOWN_FLAGS = ['--quick', '--only', '--size', '--nodes', '--duration', '--count', '--catchup-count', '--side', '--catchup-synchronous', '--node-flags', '--verbose', '--scale-nodes', '--scale-rate']

export function usage (scenarios: ScenarioName[]): string {
  const width = Math.max(...scenarios.map(s => s.name.length))
  return `usage: npm run bench -- [options]
  --quick  --only a,b (${scenarios.map(s => s.name).join(', ')})  --size BYTES  --nodes N  --duration SEC  --count N
  --catchup-count N  --side raw|gossipd  --catchup-synchronous FULL|NORMAL  --node-flags "..."  --verbose
  --scale-nodes 5,10,20,50 (the scale scenario's swarm sizes)  --scale-rate MSG_PER_S (its spread, default 10)
Prints a table and writes results/bench-<time>.json and results/latest.json.
Scenarios (--only throughput means throughput2 and throughput5):
${scenarios.map(s => `  ${s.name.padEnd(width)}  ${s.title}`).join('\n')}`
}

/** Parse the bench's argv; --help prints usage and exits, a bad flag or value throws. */
export function parseArgs (argv: string[], scenarios: ScenarioName[]): Options {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage(scenarios) + '\n')
    process.exit(0)
  }
  const names = scenarios.map(s => s.name)
  const unknown: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].split('=')[0]
    if (!KNOWN_FLAGS.includes(flag)) { if (argv[i].startsWith('-')) unknown.push(argv[i]); continue }
    if (!['--quick', '--verbose'].includes(flag) && !argv[i].includes('=')) i++ // skip its value
  }
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')}\n${usage(scenarios)}`)
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
      if (!names.includes(name)) throw new Error(`unknown scenario ${name}; known: throughput, ${names.join(', ')}`)
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
    sides: side != null ? [side] : ['raw', 'gossipd'],
    catchupSynchronous: get('--catchup-synchronous') === 'NORMAL' ? 'NORMAL' : 'FULL',
    nodeFlags: (get('--node-flags') ?? '').split(/\s+/).filter(Boolean),
    verbose: argv.includes('--verbose'),
    scaleNodes: scaleNodes(get('--scale-nodes')),
    scaleRate: num('--scale-rate', 10),
  }
}

function scaleNodes (v: string | undefined): number[] {
  if (v == null) return [5, 10, 20, 50]
  const ns = v.split(',').map(x => Number(x.trim()))
  if (ns.some(x => !Number.isInteger(x) || x < 2 || x > 200)) throw new Error(`--scale-nodes needs whole numbers 2-200, got ${v}`)
  return ns
}
