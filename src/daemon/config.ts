// Daemon configuration: flags > environment (GOSSIPD_*) > config file (JSON, comments allowed) > defaults.
// Every value is validated here; a ConfigError names the offending key and says what is wrong with it.
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { TOPIC_PATTERN, MAX_PAYLOAD_BYTES } from '../core/limits.js'
import { DEFAULT_MAX_ORIGINS_PER_TOPIC, MAX_ORIGINS_PER_TOPIC_LIMIT } from '../core/origin-limit.js'
import { defaultDataDir } from '../wire/api-file.js'
import { isFetchBlockedPort } from '../wire/fetch-ports.js'
import { allowPeersFrom, publishersFrom, swarmKeyFrom, type Fail, type TrustConfig } from './trust-config.js'

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/7421']
export const DEFAULT_API = '127.0.0.1:7420'
/** connected-peer bounds independent of the LAN's size (the core's default too) */
export const DEFAULT_CONNECTIONS = { low: 8, high: 16 }
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export interface DaemonConfig {
  dataDir: string
  /** the setting that named dataDir (a flag, variable or file key; absent: the default), for start's errors */
  dataDirFrom?: string
  listen: string[]
  api: { host: string, port: number }
  mdns: boolean
  peers: string[]
  topics: string[]
  retention: { maxMessages?: number, maxBytes?: number, maxAgeMs?: number }
  logLevel: LogLevel
  maxPayloadBytes: number
  /** open event streams (SSE) the control API serves at once (resolveConfig: default 256; absent: createApi's default) */
  maxStreams?: number
  /** origins kept per topic (origin-limit.ts; resolveConfig: default 5,000) */
  maxOriginsPerTopic?: number
  /** connected-peer bounds: discovered peers are dialled only below low, past high the least valued are pruned */
  connections?: { low: number, high: number }
  /** a listener for /metrics and the health probes, for a Prometheus on another host (off by default) */
  metrics?: { host: string, port: number }
  /** swarm key, peer allow/deny lists, publisher allowlists (trust-config.ts); absent: an open swarm */
  trust?: TrustConfig
  /** also serve the control API on this unix socket (0600) */
  apiSocket?: string
  /** where each value came from, for the startup log */
  configFile?: string
}

/** Raw, unvalidated settings from one source; keys as in the config file. */
export interface RawConfig {
  dataDir?: unknown
  listen?: unknown
  api?: unknown
  mdns?: unknown
  peers?: unknown
  topics?: unknown
  retention?: unknown
  logLevel?: unknown
  maxPayloadBytes?: unknown
  maxStreams?: unknown
  maxOriginsPerTopic?: unknown
  swarmKey?: unknown
  allowPeers?: unknown
  denyPeers?: unknown
  publishers?: unknown
  apiSocket?: unknown
  metrics?: unknown
  connectionsLow?: unknown
  connectionsHigh?: unknown
}

const KEYS = ['dataDir', 'listen', 'api', 'mdns', 'peers', 'topics', 'retention', 'logLevel', 'maxPayloadBytes', 'maxStreams', 'maxOriginsPerTopic', 'swarmKey', 'allowPeers', 'denyPeers', 'publishers', 'apiSocket', 'metrics', 'connectionsLow', 'connectionsHigh']
const RETENTION_KEYS = ['maxMessages', 'maxBytes', 'maxAge']

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor (readonly key: string, readonly problem: string, readonly source?: string) {
    super(`${source != null ? `${source}: ` : ''}${key}: ${problem}`)
  }
}

/** JSON with // and /* *\/ comments and trailing commas allowed (so the shipped examples can explain themselves). */
export function parseJsonc (text: string): unknown {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      const chunk = end < 0 ? text.slice(i) : text.slice(i, end + 2)
      out += chunk.replace(/[^\n]/g, ' ')
      i = end < 0 ? text.length : end + 2
    } else {
      out += c
      i++
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'))
}

export function readConfigFile (path: string): RawConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError('config', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let data: unknown
  try {
    data = parseJsonc(text)
  } catch (err) {
    throw new ConfigError('config', `${path} is not valid JSON: ${(err as Error).message}`)
  }
  if (data == null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError('config', `${path} must contain a JSON object`)
  for (const key of Object.keys(data)) {
    if (!KEYS.includes(key)) throw new ConfigError(key, `unknown key (known keys: ${KEYS.join(', ')})`, path)
  }
  return data as RawConfig
}

function list (v: string | undefined): string[] | undefined {
  if (v == null || v.trim() === '') return undefined
  return v.split(',').map(s => s.trim()).filter(s => s !== '')
}

export function envConfig (env: NodeJS.ProcessEnv): { raw: RawConfig, names: Record<string, string> } {
  const raw: RawConfig = {}
  const names: Record<string, string> = {}
  const set = (key: keyof RawConfig, name: string, value: unknown): void => {
    if (value === undefined) return
    raw[key] = value
    names[key] = name
  }
  set('dataDir', 'GOSSIPD_DATA', env.GOSSIPD_DATA || undefined)
  set('listen', 'GOSSIPD_LISTEN', list(env.GOSSIPD_LISTEN))
  set('api', 'GOSSIPD_API', env.GOSSIPD_API || undefined)
  set('mdns', 'GOSSIPD_MDNS', env.GOSSIPD_MDNS || undefined)
  set('peers', 'GOSSIPD_PEERS', list(env.GOSSIPD_PEERS))
  set('topics', 'GOSSIPD_TOPICS', list(env.GOSSIPD_TOPICS))
  set('logLevel', 'GOSSIPD_LOG_LEVEL', env.GOSSIPD_LOG_LEVEL || undefined)
  set('maxPayloadBytes', 'GOSSIPD_MAX_PAYLOAD', env.GOSSIPD_MAX_PAYLOAD || undefined)
  set('maxStreams', 'GOSSIPD_MAX_STREAMS', env.GOSSIPD_MAX_STREAMS || undefined)
  set('maxOriginsPerTopic', 'GOSSIPD_MAX_ORIGINS_PER_TOPIC', env.GOSSIPD_MAX_ORIGINS_PER_TOPIC || undefined)
  set('metrics', 'GOSSIPD_METRICS', env.GOSSIPD_METRICS || undefined)
  set('swarmKey', 'GOSSIPD_SWARM_KEY', env.GOSSIPD_SWARM_KEY || undefined)
  set('apiSocket', 'GOSSIPD_API_SOCKET', env.GOSSIPD_API_SOCKET || undefined)
  set('connectionsLow', 'GOSSIPD_CONNECTIONS_LOW', env.GOSSIPD_CONNECTIONS_LOW || undefined)
  set('connectionsHigh', 'GOSSIPD_CONNECTIONS_HIGH', env.GOSSIPD_CONNECTIONS_HIGH || undefined)
  const retention: Record<string, string> = {}
  if (env.GOSSIPD_RETENTION_MAX_MESSAGES) retention.maxMessages = env.GOSSIPD_RETENTION_MAX_MESSAGES
  if (env.GOSSIPD_RETENTION_MAX_BYTES) retention.maxBytes = env.GOSSIPD_RETENTION_MAX_BYTES
  if (env.GOSSIPD_RETENTION_MAX_AGE) retention.maxAge = env.GOSSIPD_RETENTION_MAX_AGE
  if (Object.keys(retention).length > 0) set('retention', 'GOSSIPD_RETENTION_*', retention)
  return { raw, names }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }

/** fromFile: JSON has numbers, so there a string ("10") is a mistake; flags and the environment are strings by nature */
function count (key: string, v: unknown, min: number, fromFile = false): number {
  if (fromFile && typeof v === 'string') throw new ConfigError(key, `must be a JSON number (a whole number >= ${min}), not a string: got ${JSON.stringify(v)}`)
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v
  // String(v): JSON.stringify shows a 1e400 (Infinity) as null
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new ConfigError(key, `must be a whole number >= ${min}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`)
  return n
}

export function parseSize (key: string, v: unknown): number {
  if (typeof v === 'number') return count(key, v, 1)
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v) : null
  const unit = m?.[2].toLowerCase() ?? ''
  if (m == null || !(unit in SIZE_UNITS)) throw new ConfigError(key, `must be a size in bytes like 1048576, "64MB" or "1GiB", got ${JSON.stringify(v)}`)
  const n = Math.floor(Number(m[1]) * SIZE_UNITS[unit])
  // past 2^53 a size is not held exactly (and '9'.repeat(400) is Infinity, shown as null in /v1/topics)
  if (!Number.isSafeInteger(n)) throw new ConfigError(key, `must be at most ${Number.MAX_SAFE_INTEGER} bytes, got ${JSON.stringify(v)}`)
  if (n < 1) throw new ConfigError(key, `must be at least 1 byte, got ${JSON.stringify(v)}`)
  return n
}

/** "7d", "12h", "30m", "90s", "500ms", a number of milliseconds, or 0 / "0" (keep forever) */
export function parseDuration (key: string, v: unknown): number {
  if (typeof v === 'number') return count(key, v, 0)
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(v) : null
  if (m == null) throw new ConfigError(key, `must be a duration like "7d", "12h", "30m" or milliseconds (0 = forever), got ${JSON.stringify(v)}`)
  const ms = Math.floor(Number(m[1]) * TIME_UNITS[(m[2] ?? 'ms').toLowerCase()])
  if (!Number.isSafeInteger(ms)) throw new ConfigError(key, `must be at most ${Number.MAX_SAFE_INTEGER} ms (about 285,000 years), got ${JSON.stringify(v)}`)
  return ms
}

function isLoopback (host: string): boolean {
  const h = host.toLowerCase()
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'))
}

export function parseApiAddress (key: string, v: unknown): { host: string, port: number } {
  if (typeof v !== 'string') throw new ConfigError(key, `must be "HOST:PORT" (e.g. "${DEFAULT_API}"), got ${JSON.stringify(v)}`)
  const s = v.replace(/^https?:\/\//, '').replace(/\/$/, '')
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/i.exec(s) ?? /^(\d{1,5})$/.exec(s)
  if (m == null) throw new ConfigError(key, `must be "HOST:PORT" (e.g. "${DEFAULT_API}"), got ${JSON.stringify(v)}`)
  // a bare "PORT" matched the second pattern, whose m[1] is the port
  const bare = m.length === 2
  const host = bare ? '127.0.0.1' : (m[1] ?? m[2])
  const port = Number(bare ? m[1] : m[3])
  if (port > 65535) throw new ConfigError(key, `port must be 0-65535, got ${port}`)
  // what would pass here but fail at listen (ENOTFOUND) or be taken for a host name
  if (!bare && m[1] != null && isIP(host) !== 6) throw new ConfigError(key, `${host} is not an IPv6 address, got ${JSON.stringify(v)}`)
  if (/^[\d.]+$/.test(host) && isIP(host) !== 4) throw new ConfigError(key, `${host} is not an IPv4 address (four numbers 0-255), got ${JSON.stringify(v)}`)
  return { host, port }
}

/** fromFile: JSON has booleans, so there a string ("false") is a mistake; flags and the environment are strings by nature */
function bool (key: string, v: unknown, fromFile = false): boolean {
  if (typeof v === 'boolean') return v
  if (fromFile && typeof v === 'string') throw new ConfigError(key, `must be a JSON boolean (true or false, without quotes), not a string: got ${JSON.stringify(v)}`)
  if (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v)) return true
  if (typeof v === 'string' && /^(0|false|no|off)$/i.test(v)) return false
  throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`)
}

function strings (key: string, v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new ConfigError(key, `must be a list of strings, got ${JSON.stringify(v)}`)
  return v as string[]
}

/** what the format check lets through but libp2p would fail on later: the address, port and peer id themselves */
function multiaddrProblem (a: string, needPeerId: boolean): string | undefined {
  const [, proto, host, port] = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(a) ?? []
  if (proto === 'ip4' && isIP(host) !== 4) return `${host} is not an IPv4 address`
  if (proto === 'ip6' && isIP(host) !== 6) return `${host} is not an IPv6 address`
  if (Number(port) > 65535) return `port must be 0-65535, not ${port}`
  try { multiaddr(a) } catch (err) { return `is not a valid multiaddr (${(err as Error).message})` }
  if (needPeerId) {
    try { peerIdFromString(a.slice(a.lastIndexOf('/p2p/') + 5)) } catch { return 'ends with an invalid peer id' }
  }
  return undefined
}

function multiaddrs (key: string, v: unknown, needPeerId: boolean): string[] {
  const out = strings(key, v)
  out.forEach((a, i) => {
    if (!/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d{1,5}(\/|$)/.test(a)) {
      throw new ConfigError(`${key}[${i}]`, `must be a TCP multiaddr like /ip4/127.0.0.1/tcp/7421${needPeerId ? '/p2p/<peer id>' : ''}, got ${JSON.stringify(a)}`)
    }
    if (needPeerId && !/\/p2p\/[1-9A-HJ-NP-Za-km-z]{32,}$/.test(a)) {
      throw new ConfigError(`${key}[${i}]`, `must end with /p2p/<peer id> (see "gossipd status" on that node), got ${JSON.stringify(a)}`)
    }
    // gossipd runs plain TCP: a /ws, /tls, ... after the port would pass here and make libp2p fail at start
    const rest = a.replace(/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d{1,5}/, '')
    if (rest !== '' && !(needPeerId && /^\/p2p\/[^/]+$/.test(rest))) {
      throw new ConfigError(`${key}[${i}]`, `must be a plain TCP multiaddr: nothing but ${needPeerId ? '/p2p/<peer id>' : 'the end'} may follow /tcp/PORT (${JSON.stringify(rest)} is not supported), got ${JSON.stringify(a)}`)
    }
    const bad = multiaddrProblem(a, needPeerId)
    if (bad != null) throw new ConfigError(`${key}[${i}]`, `${bad}, got ${JSON.stringify(a)}`)
  })
  return out
}

/**
 * Merge and validate. Later sources win: defaults < file < env < flags. Keys in errors are given as the
 * source spells them (--flag, GOSSIPD_VAR or the config file key).
 */
export function resolveConfig (sources: { flags?: RawConfig, env?: NodeJS.ProcessEnv, file?: string }): DaemonConfig {
  const env = sources.env ?? {}
  const configPath = sources.file ?? (env.GOSSIPD_CONFIG || undefined)
  const file = configPath != null ? readConfigFile(configPath) : {}
  const fromEnv = envConfig(env)
  const flags = sources.flags ?? {}
  const flagNames: Record<string, string> = { dataDir: '--data', listen: '--listen', api: '--api', mdns: '--mdns', peers: '--peer', topics: '--topic', logLevel: '--log-level', maxPayloadBytes: '--max-payload', maxStreams: '--max-streams', retention: '--retention-*', metrics: '--metrics', swarmKey: '--swarm-key', apiSocket: '--api-socket', connectionsLow: '--connections-low', connectionsHigh: '--connections-high' }

  type Source = 'flag' | 'env' | 'file'
  const pick = <K extends keyof RawConfig>(key: K): { value: unknown, name: string, source: Source } | undefined => {
    if (flags[key] !== undefined) return { value: flags[key], name: flagNames[key], source: 'flag' }
    if (fromEnv.raw[key] !== undefined) return { value: fromEnv.raw[key], name: fromEnv.names[key], source: 'env' }
    if (file[key] !== undefined) return { value: file[key], name: `${configPath}: ${key}`, source: 'file' }
    return undefined
  }
  const get = <T>(key: keyof RawConfig, def: T, parse: (name: string, v: unknown, source: Source) => T): T => {
    const p = pick(key)
    if (p == null) return def
    // the config file is validated in full: a bad value there is an error even where the environment or a
    // flag overrides it (it would otherwise surface only on the day the override is dropped)
    if (p.source !== 'file' && file[key] !== undefined) parse(`${configPath}: ${key}`, file[key], 'file')
    return parse(p.name, p.value, p.source)
  }

  const dataDir = get('dataDir', defaultDataDir({}), (name, v) => {
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(name, `must be a directory path, got ${JSON.stringify(v)}`)
    const dir = resolve(v.replace(/^~(?=$|\/)/, homedir()))
    // start creates a missing data dir; a file in its place would fail there as "EEXIST" (exit 1), not naming the setting
    let isDir: boolean | undefined
    try { isDir = statSync(dir).isDirectory() } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new ConfigError(name, `${dir} cannot be a data dir: a part of its path is a file, not a directory`)
    }
    if (isDir === false) throw new ConfigError(name, `${dir} exists and is not a directory (the data dir must be a directory, or a path where one can be created)`)
    // an existing dir this process cannot write failed later as a raw EACCES/EROFS reading identity.key (exit 1)
    if (isDir === true) {
      try { accessSync(dir, fsConstants.W_OK | fsConstants.X_OK) } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error'
        throw new ConfigError(name, `${dir} cannot be a data dir: this process cannot write to it (${code}${code === 'EROFS' ? ', a read-only file system' : ''})`)
      }
    }
    return dir
  })
  const listen = get('listen', DEFAULT_LISTEN, (name, v) => {
    const l = multiaddrs(name, v, false)
    if (l.length === 0) throw new ConfigError(name, 'must list at least one multiaddr')
    return l
  })
  const api = get('api', parseApiAddress('default', DEFAULT_API), (name, v) => {
    const a = parseApiAddress(name, v)
    // the API is plain HTTP with a bearer token: on a network it would travel in clear text
    if (!isLoopback(a.host)) throw new ConfigError(name, `refusing to serve the control API on ${a.host}, which is not a loopback address: it is plain HTTP and its token would cross the network in clear text. Use 127.0.0.1:PORT (and --api-socket PATH for local tools), and reach it remotely through an SSH tunnel`)
    // every gossipd client talks to the API with fetch, which refuses these ports ("bad port"): only curl would get through
    if (isFetchBlockedPort(a.port)) throw new ConfigError(name, `port ${a.port} is blocked by fetch-based clients (it is on the Fetch standard's "bad port" list), so the gossipd CLI, REPL and web page could not reach the API there; pick another port, e.g. ${DEFAULT_API}, or :0 for any free port`)
    return a
  })
  const apiSocket = get<string | undefined>('apiSocket', undefined, (name, v) => {
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(name, `must be a file path for the unix socket, got ${JSON.stringify(v)}`)
    const path = resolve(v)
    // bind() would cut a longer path short (leaving a socket under another name) or fail later with a misleading
    // error: sun_path is 108 bytes on Linux, 104 on macOS and the BSDs, NUL included
    const max = process.platform === 'linux' ? 107 : 103
    const bytes = Buffer.byteLength(path)
    if (bytes > max) throw new ConfigError(name, `${path} is ${bytes} bytes, over the ${max}-byte limit for a unix socket path on this platform (sun_path); use a shorter path`)
    return path
  })
  const mdns = get('mdns', true, (name, v, source) => bool(name, v, source === 'file'))
  const peers = get('peers', [] as string[], (name, v) => multiaddrs(name, v, true))
  const topics = get('topics', [] as string[], (name, v) => {
    const t = strings(name, v)
    t.forEach((x, i) => {
      if (!TOPIC_PATTERN.test(x)) throw new ConfigError(`${name}[${i}]`, `invalid topic name ${JSON.stringify(x)}: use 1-128 characters of letters, digits and . _ - / (not starting with . or /)`)
    })
    return t
  })
  const logLevel = get('logLevel', 'info' as LogLevel, (name, v) => {
    if (typeof v !== 'string' || !(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError(name, `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}`)
    return v as LogLevel
  })
  const maxPayloadBytes = get('maxPayloadBytes', MAX_PAYLOAD_BYTES, (name, v) => {
    const n = parseSize(name, v)
    if (n > 16 * 1024 * 1024) throw new ConfigError(name, `must be at most 16MiB (${16 * 1024 * 1024}), got ${n}`)
    return n
  })
  const maxStreams = get('maxStreams', 256, (name, v, source) => count(name, v, 1, source === 'file'))
  const maxOriginsPerTopic = get('maxOriginsPerTopic', DEFAULT_MAX_ORIGINS_PER_TOPIC, (name, v, source) => {
    const n = count(name, v, 1, source === 'file')
    if (n > MAX_ORIGINS_PER_TOPIC_LIMIT) throw new ConfigError(name, `must be at most ${MAX_ORIGINS_PER_TOPIC_LIMIT} (a full topic's sync request lists every origin it keeps), got ${n}`)
    return n
  })
  const metrics = get('metrics', undefined as DaemonConfig['metrics'], parseApiAddress)
  const connections = { low: get('connectionsLow', DEFAULT_CONNECTIONS.low, (name, v, source) => count(name, v, 1, source === 'file')), high: get('connectionsHigh', DEFAULT_CONNECTIONS.high, (name, v, source) => count(name, v, 1, source === 'file')) }
  const markSource = (key: 'connectionsLow' | 'connectionsHigh'): string => pick(key)?.name ?? 'the default'
  if (connections.high < connections.low) {
    throw new ConfigError(pick('connectionsHigh')?.name ?? pick('connectionsLow')?.name ?? 'connectionsHigh',
      `the high mark (${connections.high}) must be at least the low mark (${connections.low}) (low from ${markSource('connectionsLow')}, high from ${markSource('connectionsHigh')})`)
  }
  // the file's own pair too, as every file value: an override must not hide a pair that fails the day it goes
  if (typeof file.connectionsLow === 'number' && typeof file.connectionsHigh === 'number' && file.connectionsHigh < file.connectionsLow) {
    throw new ConfigError(`${configPath}: connectionsHigh`, `the high mark (${file.connectionsHigh}) must be at least the low mark (${file.connectionsLow}) (both from the file; overridden now, this fails once the override goes)`)
  }
  // retention merges key by key across sources
  const retention: DaemonConfig['retention'] = {}
  for (const [src, name] of [[file.retention, `${configPath}: retention`], [fromEnv.raw.retention, 'GOSSIPD_RETENTION'], [flags.retention, '--retention']] as const) {
    if (src === undefined) continue
    if (src == null || typeof src !== 'object' || Array.isArray(src)) throw new ConfigError(name, `must be an object with ${RETENTION_KEYS.join(', ')}, got ${JSON.stringify(src)}`)
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined) continue
      const keyName = name === 'GOSSIPD_RETENTION' ? `GOSSIPD_RETENTION_${k.replace(/[A-Z]/g, c => `_${c}`).toUpperCase()}` : name === '--retention' ? `--retention-${k.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}` : `${name}.${k}`
      if (k === 'maxMessages') retention.maxMessages = count(keyName, v, 1, src === file.retention)
      else if (k === 'maxBytes') retention.maxBytes = parseSize(keyName, v)
      else if (k === 'maxAge') retention.maxAgeMs = parseDuration(keyName, v)
      else throw new ConfigError(keyName, `unknown retention key (known: ${RETENTION_KEYS.join(', ')})`)
    }
  }
  const fail: Fail = (name, message) => { throw new ConfigError(name, message) }
  const trust: TrustConfig = {
    ...get<Partial<ReturnType<typeof swarmKeyFrom>>>('swarmKey', {}, (name, v) => swarmKeyFrom(name, v, fail)),
    allowPeers: get('allowPeers', undefined, (name, v) => allowPeersFrom(name, v, fail)),
    denyPeers: get('denyPeers', [] as string[], (name, v) => allowPeersFrom(name, v, fail)),
    publishers: get('publishers', {}, (name, v) => publishersFrom(name, v, fail)),
  }
  const dataDirFrom = pick('dataDir')?.name
  return { dataDir, dataDirFrom, listen, api, mdns, peers, topics, retention, logLevel, maxPayloadBytes, maxStreams, maxOriginsPerTopic, connections, metrics, trust, apiSocket, configFile: configPath }
}
