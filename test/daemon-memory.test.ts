// Issue 11: an idle daemon's memory is paid once per machine, and once per daemon on a test host. V8 grows the
// young generation to 16 MB per semi-space during start-up and never returns it; every launcher gossipd ships
// caps it (src/daemon/node-flags.ts). Seen on the old bin (no flag): private memory 52 MB; with it 34 MB.
import { it, expect, afterAll } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js'
import { BIN, SAFE_ARGS, cleanEnv } from './daemon-util.js'

const root = join(dirname(BIN), '..')
let proc: ChildProcess | undefined
afterAll(() => { proc?.kill('SIGKILL') })

it('every launcher gossipd ships passes the daemon node flags', () => {
  const launchers = {
    'bin/gossipd.js shebang': readFileSync(BIN, 'utf8').split('\n')[0],
    'configs/gossipd.service ExecStart': readFileSync(join(root, 'configs/gossipd.service'), 'utf8').split('\n').find(l => l.startsWith('ExecStart='))!,
    'npm start': JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start as string,
  }
  for (const [what, line] of Object.entries(launchers)) {
    for (const flag of DAEMON_NODE_FLAGS) expect(line, what).toContain(flag)
  }
})

it.runIf(process.platform === 'linux')('an idle daemon started by the gossipd command (as npx runs it) keeps under 44 MB of private memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gossipd-mem-'))
  // run the bin itself, as npx and a global install do, so its shebang picks the node flags
  const env = cleanEnv({ PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` })
  const p = proc = spawn(BIN, ['start', '--data', dir, ...SAFE_ARGS, '--topic', 't'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout!.on('data', d => { out += d })
  p.stderr!.on('data', d => { out += d })
  const t0 = Date.now()
  while (!out.includes('gossipd ready') && Date.now() - t0 < 30_000) await new Promise(resolve => setTimeout(resolve, 100))
  expect(out).toContain('gossipd ready')
  for (const flag of DAEMON_NODE_FLAGS) expect(readFileSync(`/proc/${p.pid!}/cmdline`, 'utf8').split('\0')).toContain(flag)
  await new Promise(resolve => setTimeout(resolve, 15_000))
  const status = readFileSync(`/proc/${p.pid!}/status`, 'utf8')
  const privateMB = Number(/RssAnon:\s+(\d+) kB/.exec(status)![1]) / 1024
  console.log(`idle daemon private memory (RssAnon): ${privateMB.toFixed(1)} MB`)
  expect(privateMB).toBeLessThan(44)
  p.kill('SIGINT')
  await new Promise(resolve => p.on('close', resolve))
}, 60_000)
