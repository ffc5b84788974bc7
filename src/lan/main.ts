// npm run lan -- --nodes N [--backlog M] [--keep-logs]: the LAN walkthrough on one machine (needs root).
// npm run lan -- --nodes N --fault kill|stop|partition|loss|churn|disk-full|skew|all [--short]: fault runs.
import '../polyfill.js'
import { parseArgs } from 'node:util'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { runLanScenario } from './scenario.js'
import { isRoot } from './isolation.js'
import { FAULTS, FULL, SHORT, type FaultName } from './faults.js'
import { runFault, summary, type FaultResult } from './fault-run.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    backlog: { type: 'string', default: '25' },
    fault: { type: 'string' },
    short: { type: 'boolean', default: false },
    out: { type: 'string', default: 'results/lan-faults.json' },
    'keep-logs': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help === true) {
  process.stdout.write(`usage: npm run lan -- [--nodes N] [--backlog M] [--keep-logs] [--json]
       npm run lan -- --nodes N --fault ${FAULTS.join('|')}|all [--short] [--out FILE] [--keep-logs]

Creates N network namespaces on a private bridge (10.77.0.0/24, nothing on the host's interfaces), starts
one gossipd daemon per namespace with mDNS as the only discovery, publishes through the CLI, kills one
daemon with SIGKILL, publishes M more, restarts it and checks it caught up. Removes everything at the end,
on failure and on Ctrl-C. Needs root (ip netns).

With --fault: publishes through every daemon's API at a steady rate, runs a durable consumer on each,
injects the fault (all: each in turn), and checks every acked message reached every daemon: prints one
line per fault, writes FILE (merged with the faults already in it) and exits 1 on any loss, duplicate
after ack or order violation. --short: the few-seconds version npm test runs.
`)
  process.exit(0)
}
if (!isRoot()) {
  process.stderr.write('npm run lan needs root: it creates network namespaces (ip netns add)\n')
  process.exit(2)
}

if (values.fault != null) {
  const faults: FaultName[] = values.fault === 'all' ? [...FAULTS] : values.fault.split(',') as FaultName[]
  const bad = faults.filter(f => !(FAULTS as readonly string[]).includes(f))
  if (bad.length > 0) {
    process.stderr.write(`unknown fault ${bad.join(', ')}: use ${FAULTS.join(', ')} or all\n`)
    process.exit(2)
  }
  const results: FaultResult[] = []
  for (const f of faults) {
    const r = await runFault(f, { nodes: Number(values.nodes), profile: values.short === true ? SHORT : FULL, keepLogs: values['keep-logs'], log: line => process.stdout.write(line + '\n') })
    results.push(r)
    process.stdout.write(summary(r) + '\n')
  }
  let previous: Record<string, FaultResult> = {}
  try { previous = (JSON.parse(readFileSync(values.out, 'utf8')) as { faults: Record<string, FaultResult> }).faults } catch { /* first run */ }
  for (const r of results) previous[r.fault] = { ...r, at: new Date().toISOString() } as FaultResult
  mkdirSync(dirname(resolve(values.out)), { recursive: true })
  writeFileSync(values.out, JSON.stringify({ faults: previous }, null, 2) + '\n')
  for (const r of results) process.stdout.write(summary(r) + '\n')
  process.exit(results.every(r => r.ok) ? 0 : 1)
}

const report = await runLanScenario({
  nodes: Number(values.nodes),
  backlog: Number(values.backlog),
  keepLogs: values['keep-logs'],
  log: values.json === true ? undefined : line => process.stdout.write(line + '\n'),
})
if (values.json === true) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
else process.stdout.write(report.ok ? `LAN run passed with ${report.nodes} daemons\n` : `LAN run FAILED: ${report.error}\n`)
process.exit(report.ok ? 0 : 1)
