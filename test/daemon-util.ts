// Helpers for tests that run the real gossipd binary: daemons on 127.0.0.1 only, mDNS always off,
// a throwaway HOME so nothing touches ~/.gossipd, and every spawned process killed afterwards.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js'

export const BIN = fileURLToPath(new URL('../bin/gossipd.js', import.meta.url))

const procs = new Set<ChildProcess>()
const dirs: string[] = []

export function tmp (prefix = 'gossipd-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

/** The environment for every child: no GOSSIPD_* from the outside, HOME in a temp dir. */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GOSSIPD_')) env[k] = v
  env.HOME = tmp('gossipd-home-')
  env.NO_COLOR = '1'
  return { ...env, ...extra }
}

export interface Daemon {
  proc: ChildProcess
  dataDir: string
  url: string
  token: string
  peerId: string
  /** loopback libp2p address with /p2p/ */
  addr: string
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

export const SAFE_ARGS = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'info']

/** Start `gossipd start` on a data dir and wait until it is ready (it prints "gossipd ready" when api.json is written). */
export async function startDaemon (dataDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Daemon> {
  // exited resolves on 'close', after all output has been read, so stderr() is complete by then
  const { proc, stdout, stderr, exited } = spawnGossipd(['start', '--data', dataDir, ...SAFE_ARGS, ...extra], env)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in 30 s\nstdout: ${stdout()}\nstderr: ${stderr()}`)), 30_000)
    proc.stdout!.on('data', () => { if (stdout().includes('gossipd ready')) { clearTimeout(timer); resolve() } })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`daemon exited with ${code} before it was ready\nstderr: ${stderr()}`)) })
  })
  const info = JSON.parse(readFileSync(join(dataDir, 'api.json'), 'utf8'))
  const addr = (info.addresses as string[]).find(a => a.includes('/127.0.0.1/'))!
  return { proc, dataDir, url: info.url, token: info.token, peerId: info.peerId, addr, stdout, stderr, exited }
}

export interface RunResult { code: number | null, stdout: string, stderr: string }

/** Run one gossipd command to completion (killed after timeoutMs). */
export async function gossipd (args: string[], opts: { input?: string, env?: Record<string, string>, timeoutMs?: number } = {}): Promise<RunResult> {
  const proc = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] })
  procs.add(proc)
  let stdout = ''
  let stderr = ''
  proc.stdout!.on('data', d => { stdout += d })
  proc.stderr!.on('data', d => { stderr += d })
  proc.stdin!.end(opts.input ?? '')
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
  const code = await new Promise<number | null>(resolve => proc.on('close', code => resolve(code)))
  clearTimeout(timer)
  procs.delete(proc)
  return { code, stdout, stderr }
}

/** Start a long-running command (e.g. sub); returns the process and its output so far. */
export function spawnGossipd (args: string[], env: Record<string, string> = {}): { proc: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  procs.add(proc)
  let out = ''
  let err = ''
  proc.stdout!.on('data', d => { out += d })
  proc.stderr!.on('data', d => { err += d })
  const exited = new Promise<number | null>(resolve => proc.on('close', code => { procs.delete(proc); resolve(code) }))
  return { proc, stdout: () => out, stderr: () => err, exited }
}

export async function stopDaemon (d: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (d.proc.exitCode == null && d.proc.signalCode == null) d.proc.kill(signal)
  return await d.exited
}

/** Kill everything still running (SIGKILL) and remove temp dirs. Call in afterEach/afterAll. */
export async function cleanup (): Promise<void> {
  const waits = [...procs].map(async p => {
    if (p.exitCode == null && p.signalCode == null) p.kill('SIGKILL')
    await new Promise(resolve => { if (p.exitCode != null || p.signalCode != null) resolve(null); else p.once('exit', resolve) })
  })
  await Promise.all(waits)
  procs.clear()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
