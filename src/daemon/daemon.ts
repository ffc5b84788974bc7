// The daemon: one GossipNode plus the control API, the api.json rendezvous file, logs and signals.
import { writeFileSync, renameSync, readFileSync, unlinkSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { reloadOnSighup } from './reload.js'
import { GossipNode } from '../core/node.js'
import { StoreError } from '../store/store.js'
import { makeDir } from '../store/make-dir.js'
import { createApi, type Api } from './api.js'
import { generateToken } from './api/auth.js'
import { SocketInUseError } from './api/unix-socket.js'
import type { DaemonConfig } from './config.js'
import { EXIT } from '../wire/exit-codes.js'
import { API_FILE, type ApiFile } from '../wire/api-file.js'
import type { StatusExtra } from '../wire/results.js'
import { VERSION } from '../version.js'
import { Observability } from './observe/index.js'
import { RejectLog } from './reject-log.js'
import { endStartupTiering, STARTUP_SETTLE_MS } from './node-flags.js'

export class DaemonStartError extends Error {
  override name = 'DaemonStartError'
  constructor (message: string, readonly exitCode: number, options?: { cause?: unknown }) { super(message, options) }
}

export interface DaemonHandle {
  node: GossipNode
  url: string
  token: string
  apiFile: string
  stop: () => Promise<void>
}

export function readApiFile (dataDir: string): ApiFile | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, API_FILE), 'utf8')) as ApiFile
  } catch {
    return null
  }
}

export function writePrivate (path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, data, { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, path)
  } catch (err) {
    try { unlinkSync(tmp) } catch { /* never created */ }
    throw err
  }
}

let unhandledRejections = 0

/**
 * An unhandled promise rejection is a bug somewhere: log it at error and count it (status field
 * unhandledRejections) rather than crash a daemon that holds other clients' streams. runDaemon routes
 * process 'unhandledRejection' here.
 */
export function reportUnhandledRejection (log: Logger, err: unknown): void {
  unhandledRejections++
  log.error({ err, unhandledRejections }, 'unhandled promise rejection (a bug: please report it); the daemon goes on')
}

/** unhandled rejections seen by this process */
export function unhandledRejectionCount (): number { return unhandledRejections }

/** mkdir errors that say the data dir's path cannot hold a directory, whatever the machine's state */
const CONFIG_ERRNOS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR'])

function isAddrInUse (err: unknown): boolean {
  const e = err as { code?: string, message?: string, errors?: unknown[] }
  return e?.code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(e?.message ?? '') || (Array.isArray(e?.errors) && e.errors.some(isAddrInUse))
}

/** Start node and API; no process globals here besides pid (signals live in runDaemon). */
export async function startDaemon (cfg: DaemonConfig, log: Logger): Promise<DaemonHandle> {
  try {
    makeDir(cfg.dataDir, 0o700)
  } catch (err) {
    // a place where no directory can be made (/proc/x, /sys/x, a read-only or forbidden parent) is a bad
    // setting, named like config errors (exit 2); anything else (EIO, ENOSPC) is a fault of the machine
    const setting = CONFIG_ERRNOS.has((err as NodeJS.ErrnoException).code ?? '')
    throw new DaemonStartError(`${setting ? `invalid configuration: ${cfg.dataDirFrom ?? 'the default data dir'}: ` : ''}cannot create data dir ${cfg.dataDir}: ${(err as Error).message}`,
      setting ? EXIT.USAGE : EXIT.ERROR)
  }
  // before the node: libp2p takes its metrics at creation
  const observe = new Observability({ version: VERSION, expectPeers: cfg.peers.length > 0, metricsListen: cfg.metrics, logger: log })
  const node = new GossipNode({
    dataDir: cfg.dataDir,
    listen: cfg.listen,
    mdns: cfg.mdns,
    peers: cfg.peers,
    topics: cfg.topics,
    retention: cfg.retention,
    maxPayloadBytes: cfg.maxPayloadBytes,
    maxOriginsPerTopic: cfg.maxOriginsPerTopic,
    swarmKey: cfg.trust?.swarmKey,
    publishers: cfg.trust?.publishers,
    allowPeers: cfg.trust?.allowPeers,
    denyPeers: cfg.trust?.denyPeers,
    connections: cfg.connections,
    log: (level, msg, extra) => log[level](extra ?? {}, msg),
    metrics: observe.nodeMetrics(),
  })
  try {
    await node.start()
  } catch (err) {
    if (err instanceof StoreError && err.code === 'DATA_DIR_LOCKED') {
      const other = readApiFile(cfg.dataDir)
      const who = other != null ? ` (pid ${other.pid}, API ${other.url})` : ''
      throw new DaemonStartError(`data dir ${cfg.dataDir} is in use by another gossipd process${who}; stop it first, or give this one its own --data DIR`, EXIT.DATA_DIR_LOCKED, { cause: err })
    }
    if (err instanceof StoreError && err.code === 'IDENTITY_MISMATCH') throw new DaemonStartError(err.message, EXIT.USAGE, { cause: err })
    if (isAddrInUse(err)) {
      throw new DaemonStartError(`cannot listen on ${cfg.listen.join(', ')}: address already in use (another gossipd? pick another port with --listen ${cfg.listen[0].replace(/\/tcp\/\d+.*$/, '/tcp/PORT')}, or tcp/0 for any)`, EXIT.ADDRESS_IN_USE, { cause: err })
    }
    throw new DaemonStartError(`cannot start node: ${(err as Error).message}`, EXIT.ERROR, { cause: err })
  }
  node.on('peer:join', ({ peer }) => log.info({ peer }, 'peer connected'))
  node.on('peer:leave', ({ peer }) => log.info({ peer }, 'peer disconnected'))
  node.on('gap', gap => log.warn(gap, 'gap: messages missing'))
  // once per stream: the origin signed two versions of one seq; nodes may hold different ones for good
  node.on('fork', f => log.error(f, 'fork: origin signed two versions of one seq; its stream is blocked from there up'))
  // rate-limited: a peer decides how many envelopes it gets rejected (reject-log.ts)
  const rejectLog = new RejectLog((obj, msg) => log.warn(obj, msg))
  node.on('rejected', r => rejectLog.rejected(r))
  node.on('error', err => log.error({ err }, 'node error'))

  const token = generateToken()
  const startedAt = new Date()
  const statusExtra = (): StatusExtra => ({ version: VERSION, pid: process.pid, dataDir: cfg.dataDir, api: api?.url, uptimeMs: Date.now() - startedAt.getTime(), mdns: cfg.mdns, unhandledRejections })
  observe.attach(node, () => ({ ...statusExtra() }))
  let api: Api
  try {
    api = await createApi({
      node,
      token,
      host: cfg.api.host,
      port: cfg.api.port,
      logger: log.child({ component: 'api' }),
      maxPayloadBytes: cfg.maxPayloadBytes,
      maxStreams: cfg.maxStreams,
      statusExtra,
      observe,
      socketPath: cfg.apiSocket,
    })
  } catch (err) {
    await node.stop()
    if (err instanceof SocketInUseError) {
      throw new DaemonStartError(`API socket ${err.path} is in use: a running process (another gossipd?) listens on it; stop that one, or give this one its own --api-socket PATH`, EXIT.ADDRESS_IN_USE, { cause: err })
    }
    if (isAddrInUse(err)) {
      throw new DaemonStartError(`API address ${cfg.api.host}:${cfg.api.port} is in use (another gossipd? use --api ${cfg.api.host}:PORT, or :0 for any free port)`, EXIT.ADDRESS_IN_USE, { cause: err })
    }
    throw new DaemonStartError(`cannot start the API on ${cfg.api.host}:${cfg.api.port}: ${(err as Error).message}`, EXIT.ERROR, { cause: err })
  }
  let metricsUrl: string | undefined
  try {
    metricsUrl = await observe.listen()
  } catch (err) {
    await api.close()
    await node.stop()
    throw new DaemonStartError(`cannot open the metrics listener on ${cfg.metrics?.host}:${cfg.metrics?.port}: ${(err as Error).message}`, isAddrInUse(err) ? EXIT.ADDRESS_IN_USE : EXIT.ERROR, { cause: err })
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(cfg.api.host)) {
    log.warn({ api: api.url }, 'the control API is not on a loopback address: anyone who can reach it and learns the token controls this daemon')
  }
  const apiFile = join(cfg.dataDir, API_FILE)
  const info: ApiFile = { url: api.url, token, pid: process.pid, peerId: node.peerId, addresses: node.addresses, startedAt: startedAt.toISOString(), version: VERSION }
  try {
    writePrivate(apiFile, JSON.stringify(info, null, 2) + '\n')
  } catch (err) {
    await api.close(); await observe.close(); await node.stop()
    throw new DaemonStartError(`cannot write ${apiFile}: ${(err as Error).message}`, EXIT.ERROR, { cause: err })
  }
  log.info({ peerId: node.peerId, api: api.url, addresses: node.addresses, dataDir: cfg.dataDir, mdns: cfg.mdns, peers: cfg.peers.length, topics: node.topics().map(t => t.topic), metrics: metricsUrl }, 'gossipd started')

  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down: closing the API')
      try { await api.close() } catch (err) { log.warn({ err }, 'API close failed') }
      await observe.close().catch(err => log.warn({ err }, 'metrics listener close failed'))
      log.info('stopping the node (flushing the store)')
      await node.stop()
      // leave api.json alone if a newer daemon has taken over the data dir since
      if (readApiFile(cfg.dataDir)?.pid === process.pid) {
        try { unlinkSync(apiFile) } catch { /* already gone */ }
      }
      log.info('gossipd stopped')
    })()
    await stopping
  }
  return { node, url: api.url, token, apiFile, stop }
}

/**
 * Run in the foreground until SIGINT/SIGTERM. Resolves with the process exit code.
 * The signal handlers go in before anything starts: api.json and the ready line tell the world the daemon is
 * up, and a supervisor may signal it the instant it sees either; without a handler the signal's default action
 * would end the process with no shutdown at all. A signal while it starts stops it as soon as it has started
 * (exit 0, no ready line); a second one exits at once with 130.
 */
export async function runDaemon (cfg: DaemonConfig, log: Logger, out: NodeJS.WritableStream = process.stdout, reload?: () => DaemonConfig): Promise<number> {
  let handle: DaemonHandle | undefined
  let signalled = false
  let force: NodeJS.Timeout | undefined
  let settle!: (code: number) => void
  const done = new Promise<number>(resolve => { settle = resolve })
  const shutdown = (h: DaemonHandle): void => {
    h.stop().then(() => { clearTimeout(force); settle(EXIT.OK) }, err => {
      log.error({ err }, 'shutdown failed')
      settle(EXIT.ERROR)
    })
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      log.warn({ signal: sig }, 'second signal: exiting now')
      settle(EXIT.INTERRUPTED)
      return
    }
    signalled = true
    log.info({ signal: sig }, handle == null ? 'signal received while starting: stopping once started' : 'signal received')
    force = setTimeout(() => { log.error('shutdown took more than 15 s: exiting'); settle(EXIT.ERROR) }, 15_000)
    force.unref()
    if (handle != null) shutdown(handle)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // SIGHUP's default action ends the process too; one during the start is applied once the node runs
  const hup = reload != null ? reloadOnSighup(reload, log) : undefined
  const off = (): void => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    hup?.off()
  }
  try {
    const started = await Promise.race([startDaemon(cfg, log), done])
    if (typeof started === 'number') return started // a second signal, or the 15 s deadline, while starting
    handle = started
  } catch (err) {
    off()
    if (err instanceof DaemonStartError) {
      log.debug({ err: err.cause }, 'start failed')
      process.stderr.write(`gossipd: ${err.message}\n`)
      return err.exitCode
    }
    throw err
  }
  hup?.attach(handle.node)
  if (signalled) {
    shutdown(handle)
    return await done
  }
  out.write(`gossipd ready: peer ${handle.node.peerId}, api ${handle.url}, listening ${handle.node.addresses.join(' ')}\n`)
  process.on('unhandledRejection', err => reportUnhandledRejection(log, err))
  setTimeout(endStartupTiering, STARTUP_SETTLE_MS).unref()
  return await done
}
