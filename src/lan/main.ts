// npm run lan -- --nodes N [--backlog M] [--keep-logs]: the LAN walkthrough on one machine (needs root).
import '../polyfill.js'
import { parseArgs } from 'node:util'
import { runLanScenario } from './scenario.js'
import { isRoot } from './isolation.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    backlog: { type: 'string', default: '25' },
    'keep-logs': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help === true) {
  process.stdout.write(`usage: npm run lan -- [--nodes N] [--backlog M] [--keep-logs] [--json]

Creates N network namespaces on a private bridge (10.77.0.0/24, nothing on the host's interfaces), starts
one gossipd daemon per namespace with mDNS as the only discovery, publishes through the CLI, kills one
daemon with SIGKILL, publishes M more, restarts it and checks it caught up. Removes everything at the end,
on failure and on Ctrl-C. Needs root (ip netns).
`)
  process.exit(0)
}
if (!isRoot()) {
  process.stderr.write('npm run lan needs root: it creates network namespaces (ip netns add)\n')
  process.exit(2)
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
