// A central broker for the reference rows (mosquitto or nats-server, from the system's packages): found
// on PATH, started on 127.0.0.1 on a free port with its state in a fresh temp dir, stopped by its pid
// and the dir removed at the end, also when the bench fails or exits early.
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { delimiter, join } from 'node:path'
import { sleep, type Broker } from './cluster.js'

export const BROKER_BINARY: Record<Broker, string> = { mosquitto: 'mosquitto', nats: 'nats-server' }
export const INSTALL_HINT = 'install with apt-get install mosquitto nats-server'

/** The executable's path on `path` (default $PATH), or null. */
export function findBinary (name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = join(dir, name)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch { /* not here: the next dir */ }
  }
  return null
}

/** a port free on 127.0.0.1 now (the broker binds it right after; another taker in between fails the start) */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => { if (typeof addr === 'object' && addr != null) resolve(addr.port); else reject(new Error('no port')) })
    })
  })
}

export interface RunningBroker { url: string, pid: number, stop: () => Promise<void> }

function args (broker: Broker, dir: string, port: number): string[] {
  if (broker === 'nats') return ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'jetstream')]
  // QoS 1 to subscribers: up to 256 unacked per client (the publisher's window), and never drop what
  // is queued for a subscriber; state saved in the temp dir; run as whoever started the bench (as root,
  // mosquitto would switch to its own user, which cannot write the dir)
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'max_inflight_messages 256',
    'max_queued_messages 0',
    'set_tcp_nodelay true',
    `user ${userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'))
  return ['-c', conf]
}

/** signal our broker by its pid; it may have exited already */
function signal (pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig) } catch { /* already gone */ }
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = createConnection({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { s.destroy(); resolve(false) })
  })
}

/** Start the broker from `bin` and wait until it accepts connections. */
export async function startBroker (broker: Broker, bin: string): Promise<RunningBroker> {
  const dir = mkdtempSync(join(tmpdir(), `gossipd-bench-${broker}-`))
  const port = await freePort()
  const proc = spawn(bin, args(broker, dir, port), { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4096) })
  const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()))
  // after 'exit', stderr may still hold the reason it gave: 'close' is when that has all arrived
  const drained = new Promise<void>(resolve => proc.once('close', () => resolve()))
  // the bench's own exit (an uncaught error, process.exit) must not leave the broker running
  const onExit = (): void => { if (proc.exitCode == null && proc.pid != null) signal(proc.pid, 'SIGKILL') }
  process.on('exit', onExit)
  const stop = async (): Promise<void> => {
    if (proc.exitCode == null && proc.signalCode == null && proc.pid != null) {
      signal(proc.pid, 'SIGTERM')
      const gone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])
      if (!gone) {
        signal(proc.pid, 'SIGKILL')
        await exited
      }
    }
    process.off('exit', onExit)
    rmSync(dir, { recursive: true, force: true })
  }
  const spawned = await new Promise<boolean>(resolve => { proc.once('spawn', () => resolve(true)); proc.once('error', () => resolve(false)) })
  const deadline = Date.now() + 10_000
  while (spawned && proc.exitCode == null && proc.signalCode == null && Date.now() < deadline && !await accepts(port)) await sleep(50)
  if (!spawned || proc.exitCode != null || proc.signalCode != null || !await accepts(port)) {
    await stop()
    await Promise.race([drained, sleep(1_000)])
    throw new Error(`${broker} did not start on 127.0.0.1:${port}${err !== '' ? `: ${err.trim().split('\n').slice(-3).join(' / ')}` : ''}`)
  }
  return { url: broker === 'nats' ? `nats://127.0.0.1:${port}` : `mqtt://127.0.0.1:${port}`, pid: proc.pid!, stop }
}

/** Run `fn` against a fresh broker, stopping it (by pid) and removing its dir whatever happens. */
export async function withBroker<T> (broker: Broker, bin: string, fn: (url: string) => Promise<T>): Promise<T> {
  const b = await startBroker(broker, bin)
  try { return await fn(b.url) } finally { await b.stop() }
}
