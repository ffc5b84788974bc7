// npm run bench: raw gossipsub and gossipd side by side on the same machine in the same run; ratios
// gossipd/raw cancel machine noise. Each side of each scenario runs in its own child process (child.ts).
// Flags: args.ts (or --help). Scenarios: scenarios/index.ts, run in that order.
import '../polyfill.js'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './args.js'
import { createContext, selected } from './scenario.js'
import { SCENARIOS } from './scenarios/index.js'
import { formatTable, formatTargets, plain, targetsOf, type ScenarioRow } from './table.js'

async function main (): Promise<void> {
  const o = parseArgs(process.argv.slice(2), SCENARIOS)
  const started = new Date()
  const g = gitInfo()
  if (g != null) console.log(`commit ${g.commit.slice(0, 10)}${g.dirty ? ' (src has uncommitted changes)' : ''}`)
  console.log(`gossipd bench${o.quick ? ' (quick)' : ''}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}; payload ${o.size} B, ${o.nodes} nodes; all nodes on 127.0.0.1`)

  const ctx = createContext(o)
  const rows: ScenarioRow[] = []
  for (const s of SCENARIOS) if (selected(s, o)) rows.push(...await s.run(ctx))

  const targets = targetsOf(rows)
  console.log(['', ...formatTable(rows), '', ...formatTargets(targets)].join('\n'))

  const dir = fileURLToPath(new URL('../../results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
    options: { ...o, only: o.only == null ? null : [...o.only] },
    git: gitInfo(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, totalMemGB: totalmem() / 2 ** 30, node: process.version },
    results: ctx.results,
    table: rows.map(plain),
    targets,
  }
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  writeFileSync(`${dir}bench-${stamp}.json`, JSON.stringify(report, null, 2))
  writeFileSync(`${dir}latest.json`, JSON.stringify(report, null, 2))
  console.log(`\nwrote results/bench-${stamp}.json and results/latest.json`)
}

function gitInfo (): { commit: string, dirty: boolean } | null {
  try {
    const cwd = fileURLToPath(new URL('../../', import.meta.url))
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8' }).trim() !== ''
    return { commit, dirty }
  } catch { return null }
}

main().then(() => process.exit(0), err => {
  console.error(err)
  process.exit(1)
})
