// Config resolution in-process: precedence, parsing, and errors that name the key.
import { describe, it, expect, afterEach } from 'vitest'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, homedir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig, parseJsonc, ConfigError, DEFAULT_LISTEN } from '../src/daemon/config.js'
import { configFromFlags } from '../src/daemon/flags.js'
import { FETCH_BAD_PORTS } from '../src/wire/fetch-ports.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
function file (text: string): string {
  const d = mkdtempSync(join(tmpdir(), 'gossipd-cfg-'))
  dirs.push(d)
  const f = join(d, 'c.json')
  writeFileSync(f, text)
  return f
}
function error (fn: () => unknown): ConfigError {
  try { fn() } catch (err) { if (err instanceof ConfigError) return err; throw err }
  throw new Error('expected a ConfigError')
}

describe('daemon configuration', () => {
  it('defaults', () => {
    const c = resolveConfig({})
    expect(c).toMatchObject({ dataDir: join(homedir(), '.gossipd'), listen: DEFAULT_LISTEN, api: { host: '127.0.0.1', port: 7420 }, mdns: true, peers: [], topics: [], logLevel: 'info', maxPayloadBytes: 1024 * 1024 })
  })

  it('flags > environment > file > defaults, retention merged key by key', () => {
    const f = file('{ "api": "127.0.0.1:1000", "topics": ["from-file"], "logLevel": "warn", "mdns": false, "retention": { "maxMessages": 5, "maxAge": "2h" } }')
    const c = resolveConfig({
      file: f,
      env: { GOSSIPD_TOPICS: 'env-a, env-b', GOSSIPD_LOG_LEVEL: 'debug', GOSSIPD_RETENTION_MAX_BYTES: '64MB' },
      flags: { logLevel: 'error', retention: { maxMessages: '7' } },
    })
    expect(c.api).toEqual({ host: '127.0.0.1', port: 1000 })
    expect(c.topics).toEqual(['env-a', 'env-b'])
    expect(c.logLevel).toBe('error')
    expect(c.mdns).toBe(false)
    expect(c.retention).toEqual({ maxMessages: 7, maxAgeMs: 2 * 3600 * 1000, maxBytes: 64_000_000 })
  })

  it('GOSSIPD_CONFIG names the file; GOSSIPD_DATA the data dir', () => {
    const f = file('{ "listen": "/ip4/127.0.0.1/tcp/0" }')
    const c = resolveConfig({ env: { GOSSIPD_CONFIG: f, GOSSIPD_DATA: '/tmp/x' } })
    expect(c.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(c.dataDir).toBe('/tmp/x')
    expect(c.configFile).toBe(f)
  })

  it('JSON with comments and trailing commas; strings keep their // and /*', () => {
    expect(parseJsonc('{\n // c\n "a": "http://x/*y*/", /* b */ "b": [1, 2,],\n}')).toEqual({ a: 'http://x/*y*/', b: [1, 2] })
  })

  it('errors name the key as the user spelled it', () => {
    expect(error(() => resolveConfig({ flags: { api: 'localhost' } })).key).toBe('--api')
    expect(error(() => resolveConfig({ env: { GOSSIPD_API: '127.0.0.1:99999' } })).message).toBe('GOSSIPD_API: port must be 0-65535, got 99999')
    const f = file('{ "peers": ["/ip4/1.2.3.4/tcp/1"] }')
    expect(error(() => resolveConfig({ file: f })).message).toBe(`${f}: peers[0]: must end with /p2p/<peer id> (see "gossipd status" on that node), got "/ip4/1.2.3.4/tcp/1"`)
    expect(error(() => resolveConfig({ file: file('{"listen": 5}') })).message).toContain('listen: must be a list of strings, got 5')
    expect(error(() => resolveConfig({ file: file('{"mdns": "sometimes"}') })).message).toContain('mdns: must be a JSON boolean (true or false, without quotes), not a string: got "sometimes"')
    expect(error(() => resolveConfig({ file: file('{"retention": {"maxFoo": 1}}') })).message).toContain('retention.maxFoo: unknown retention key')
    expect(error(() => resolveConfig({ env: { GOSSIPD_RETENTION_MAX_MESSAGES: '-3' } })).key).toBe('GOSSIPD_RETENTION_MAX_MESSAGES')
    expect(error(() => resolveConfig({ flags: { retention: { maxAge: 'soon' } } })).key).toBe('--retention-max-age')
    expect(error(() => resolveConfig({ flags: { maxPayloadBytes: '1GiB' } })).message).toContain('--max-payload: must be at most 16MiB')
    expect(error(() => resolveConfig({ file: file('{ nope') })).message).toContain('is not valid JSON')
    expect(error(() => resolveConfig({ file: file('[1]') })).message).toContain('must contain a JSON object')
  })

  it('sizes and durations past what a number holds exactly are refused, naming the key (they were taken: Infinity became null in /v1/topics)', () => {
    for (const [retention, key] of [[{ maxAge: `${'9'.repeat(400)}d` }, 'maxAge'], [{ maxAge: '999999999999999d' }, 'maxAge'], [{ maxBytes: '99999999999999999999GiB' }, 'maxBytes'], [{ maxBytes: `${'9'.repeat(400)}` }, 'maxBytes']] as const) {
      const f = file(JSON.stringify({ retention }))
      expect(error(() => resolveConfig({ file: f })).message, JSON.stringify(retention)).toContain(`retention.${key}: `)
    }
    expect(error(() => resolveConfig({ flags: { retention: { maxAge: `${'9'.repeat(30)}w` } } })).key).toBe('--retention-max-age')
    // a payload limit named in JSON as 1e400 is Infinity: the message shows what was written, not null
    expect(error(() => resolveConfig({ file: file('{"maxPayloadBytes": 1e400}') })).message).not.toContain('got null')
    expect(resolveConfig({ file: file('{"retention": {"maxAge": "3650d", "maxBytes": "1000GiB"}}') }).retention).toEqual({ maxAgeMs: 3650 * 86_400_000, maxBytes: 1000 * 1024 ** 3 })
  })

  it('listen takes plain TCP multiaddrs only; API and metrics addresses must be real IPs (octets 0-255)', () => {
    for (const a of ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/tcp/7421/', '/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWDvUAwieoptoM6MqLgwB2sBTumVvybgY8WXsvnyrhfncg', '/ip4/127.0.0.1/tcp/0/tls/ws']) {
      const e = error(() => resolveConfig({ flags: { listen: [a] } }))
      expect(e.key, a).toBe('--listen[0]')
      expect(e.message, a).toContain(JSON.stringify(a))
    }
    expect(error(() => resolveConfig({ env: { GOSSIPD_LISTEN: '/ip6/::1/tcp/0/wss' } })).key).toBe('GOSSIPD_LISTEN[0]')
    expect(resolveConfig({ flags: { listen: ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/7421'] } }).listen).toEqual(['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/7421'])
    const peer = '/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWDvUAwieoptoM6MqLgwB2sBTumVvybgY8WXsvnyrhfncg'
    expect(resolveConfig({ flags: { peers: [peer] } }).peers).toEqual([peer])
    expect(error(() => resolveConfig({ flags: { peers: ['/ip4/127.0.0.1/tcp/7421/ws/p2p/12D3KooWDvUAwieoptoM6MqLgwB2sBTumVvybgY8WXsvnyrhfncg'] } })).key).toBe('--peer[0]')

    for (const a of ['127.999.999.999:0', '127.0.0.256:7420', 'http://127.1.2.300:7420']) {
      const e = error(() => resolveConfig({ flags: { api: a } }))
      expect(e.key, a).toBe('--api')
      expect(e.message, a).toContain('not an IPv4 address')
    }
    expect(error(() => resolveConfig({ flags: { api: '[::1::1]:7420' } })).message).toContain('not an IPv6 address')
    expect(error(() => resolveConfig({ flags: { metrics: '999.1.1.1:9100' } })).key).toBe('--metrics')
    expect(resolveConfig({ flags: { api: '127.255.0.1:0' } }).api).toEqual({ host: '127.255.0.1', port: 0 })
    expect(resolveConfig({ flags: { api: '[::1]:0' } }).api).toEqual({ host: '::1', port: 0 })
  })

  it('maxStreams: the API stream cap from the file, GOSSIPD_MAX_STREAMS or --max-streams; a whole number >= 1', () => {
    expect(resolveConfig({}).maxStreams).toBe(256)
    const f = file('{ "maxStreams": 10 }')
    expect(resolveConfig({ file: f }).maxStreams).toBe(10)
    expect(resolveConfig({ file: f, env: { GOSSIPD_MAX_STREAMS: '20' } }).maxStreams).toBe(20)
    // start's --max-streams, as commander hands it over, beats the environment
    const given = (k: string): boolean => k === 'maxStreams'
    expect(configFromFlags({ config: f, maxStreams: '30' }, given, { GOSSIPD_MAX_STREAMS: '20' }).maxStreams).toBe(30)
    expect(error(() => configFromFlags({ maxStreams: '0' }, given, {})).message).toBe('--max-streams: must be a whole number >= 1, got "0"')
    expect(error(() => resolveConfig({ env: { GOSSIPD_MAX_STREAMS: 'lots' } })).key).toBe('GOSSIPD_MAX_STREAMS')
    expect(error(() => resolveConfig({ file: file('{ "maxStreams": 1.5 }') })).message).toContain('maxStreams: must be a whole number >= 1, got 1.5')
    expect(error(() => resolveConfig({ file: file('{ "maxStreams": -4 }') })).message).toContain('maxStreams: must be a whole number >= 1, got -4')
  })

  it('maxOriginsPerTopic: the origin limit from the file or GOSSIPD_MAX_ORIGINS_PER_TOPIC; a whole number >= 1, a JSON number in the file', () => {
    expect(resolveConfig({}).maxOriginsPerTopic).toBe(5000)
    const f = file('{ "maxOriginsPerTopic": 50 }')
    expect(resolveConfig({ file: f }).maxOriginsPerTopic).toBe(50)
    expect(resolveConfig({ file: f, env: { GOSSIPD_MAX_ORIGINS_PER_TOPIC: '70' } }).maxOriginsPerTopic).toBe(70)
    expect(error(() => resolveConfig({ env: { GOSSIPD_MAX_ORIGINS_PER_TOPIC: '0' } })).message).toBe('GOSSIPD_MAX_ORIGINS_PER_TOPIC: must be a whole number >= 1, got "0"')
    expect(error(() => resolveConfig({ file: file('{ "maxOriginsPerTopic": "50" }') })).message).toContain('maxOriginsPerTopic: must be a JSON number (a whole number >= 1), not a string')
    expect(resolveConfig({ env: { GOSSIPD_MAX_ORIGINS_PER_TOPIC: '9000' } }).maxOriginsPerTopic).toBe(9000)
    expect(error(() => resolveConfig({ env: { GOSSIPD_MAX_ORIGINS_PER_TOPIC: '9001' } })).message).toContain('must be at most 9000')
  })

  it('a config file is validated in full: a bad value is an error naming its key even when the environment or a flag overrides it', () => {
    const given = (k: string): boolean => k === 'maxStreams' || k === 'logLevel' || k === 'api'
    const bad = (text: string): string => error(() => configFromFlags({ config: file(text), maxStreams: '5', logLevel: 'info', api: '127.0.0.1:0' }, given, { GOSSIPD_MDNS: 'false' })).message
    expect(bad('{ "maxStreams": 0 }')).toMatch(/c\.json: maxStreams: must be a whole number >= 1, got 0/)
    expect(bad('{ "logLevel": "loud" }')).toMatch(/c\.json: logLevel: must be one of trace/)
    expect(bad('{ "api": "0.0.0.0:7420" }')).toMatch(/c\.json: api: refusing to serve the control API on 0\.0\.0\.0/)
    expect(bad('{ "api": "127.0.0.1:6000" }')).toMatch(/c\.json: api: port 6000 is blocked by fetch/)
    expect(bad('{ "mdns": "sometimes" }')).toMatch(/c\.json: mdns: must be a JSON boolean/)
    // the winning value is still the flag's, and a good file passes
    expect(configFromFlags({ config: file('{ "maxStreams": 7, "logLevel": "warn" }'), maxStreams: '5', logLevel: 'info', api: '127.0.0.1:0' }, given, {})).toMatchObject({ maxStreams: 5, logLevel: 'info' })
  })

  it('numeric keys in a config file must be JSON numbers: a string such as "10" is refused, naming the key and the type', () => {
    for (const [text, key] of [['{ "maxStreams": "10" }', 'maxStreams'], ['{ "connectionsLow": "3" }', 'connectionsLow'], ['{ "connectionsHigh": "20" }', 'connectionsHigh'], ['{ "retention": { "maxMessages": "5" } }', 'retention.maxMessages']] as const) {
      expect(error(() => resolveConfig({ file: file(text) })).message, text).toMatch(new RegExp(`c\\.json: ${key.replace('.', '\\.')}: must be a JSON number \\(a whole number >= 1\\), not a string: got "\\d+"`))
    }
    // the environment and flags are strings by nature: there "10" is the number 10
    expect(resolveConfig({ env: { GOSSIPD_MAX_STREAMS: '10', GOSSIPD_CONNECTIONS_LOW: '3', GOSSIPD_RETENTION_MAX_MESSAGES: '5' } })).toMatchObject({ maxStreams: 10, connections: { low: 3 }, retention: { maxMessages: 5 } })
    // sizes and durations are strings in a file by design ("64MB", "7d")
    expect(resolveConfig({ file: file('{ "maxPayloadBytes": "64KiB", "retention": { "maxBytes": "1048576", "maxAge": "7d" } }') })).toMatchObject({ maxPayloadBytes: 65536, retention: { maxBytes: 1048576, maxAgeMs: 7 * 86_400_000 } })
  })

  it('boolean keys in a config file must be JSON booleans: "mdns": "false" is refused, naming the key and the type', () => {
    // mdns is the config's only boolean key; "false" in the file used to turn mDNS off, "yes" on
    for (const v of ['false', 'true', 'no', 'yes', '0', '1', 'off', 'on']) {
      const text = `{ "mdns": ${JSON.stringify(v)} }`
      expect(error(() => resolveConfig({ file: file(text) })).message, text).toContain(`c.json: mdns: must be a JSON boolean (true or false, without quotes), not a string: got ${JSON.stringify(v)}`)
    }
    expect(error(() => resolveConfig({ file: file('{ "mdns": 0 }') })).message).toContain('c.json: mdns: must be true or false, got 0')
    // also where the environment overrides the file: the file is validated in full
    expect(error(() => resolveConfig({ file: file('{ "mdns": "false" }'), env: { GOSSIPD_MDNS: 'false' } })).message).toContain('c.json: mdns: must be a JSON boolean')
    expect(resolveConfig({ file: file('{ "mdns": false }') }).mdns).toBe(false)
    expect(resolveConfig({ file: file('{ "mdns": true }') }).mdns).toBe(true)
    // the environment is a string by nature: there "false", "0", "no", "off" still turn mDNS off
    for (const v of ['false', '0', 'no', 'off']) expect(resolveConfig({ env: { GOSSIPD_MDNS: v } }).mdns, v).toBe(false)
    for (const v of ['true', '1', 'yes', 'on']) expect(resolveConfig({ file: file('{ "mdns": false }'), env: { GOSSIPD_MDNS: v } }).mdns, v).toBe(true)
  })

  it('apiSocket: a path longer than the platform allows for a unix socket is refused here, from the flag, env or file', () => {
    const limit = process.platform === 'linux' ? 107 : 103
    const dir = mkdtempSync(join(tmpdir(), 'wtb-cfg-'))
    dirs.push(dir)
    const longest = join(dir, 's'.repeat(limit - dir.length - 1))
    expect(Buffer.byteLength(longest)).toBe(limit)
    expect(resolveConfig({ flags: { apiSocket: longest } }).apiSocket).toBe(longest)
    const over = longest + 'x'
    const e = error(() => resolveConfig({ flags: { apiSocket: over } }))
    expect(e.key).toBe('--api-socket')
    expect(e.message).toContain(`is ${limit + 1} bytes, over the ${limit}-byte limit`)
    // bytes, not characters: 54 two-byte characters are 108 bytes
    expect(error(() => resolveConfig({ env: { GOSSIPD_API_SOCKET: '/' + 'é'.repeat(54) } })).key).toBe('GOSSIPD_API_SOCKET')
    const f = file(JSON.stringify({ apiSocket: over }))
    expect(error(() => resolveConfig({ file: f })).message).toContain(`${f}: apiSocket: `)
    // a relative path counts as the absolute path it resolves to
    expect(error(() => resolveConfig({ flags: { apiSocket: 's'.repeat(limit - process.cwd().length) } })).key).toBe('--api-socket')
  })

  it('api: a port that fetch refuses (the Fetch standard\'s "bad ports") is refused at start, naming the setting; port 0 is fine', async () => {
    for (const port of [1, 22, 5060, 5061, 6000, 6566, 6665, 6669, 6697, 10080]) {
      const e = error(() => resolveConfig({ flags: { api: `127.0.0.1:${port}` } }))
      expect(e.key).toBe('--api')
      expect(e.message).toContain(`port ${port} is blocked by fetch`)
    }
    expect(error(() => resolveConfig({ env: { GOSSIPD_API: '127.0.0.1:6000' } })).key).toBe('GOSSIPD_API')
    const f = file('{ "api": "localhost:6667" }')
    expect(error(() => resolveConfig({ file: f })).message).toContain(`${f}: api: port 6667 is blocked by fetch`)
    for (const port of [0, 5059, 6001, 7420, 10081, 65535]) expect(resolveConfig({ flags: { api: `127.0.0.1:${port}` } }).api.port).toBe(port)
    // the list is the one this Node's fetch applies: each of its ports fails with "bad port", before any connection
    for (const port of FETCH_BAD_PORTS) {
      const cause = await fetch(`http://127.0.0.1:${port}/`).then(() => undefined, (err: Error) => err.cause as Error | undefined)
      expect(cause?.message, `port ${port}`).toBe('bad port')
    }
  })

  it('the shipped example configs are valid', () => {
    for (const name of ['example.json', 'lan-node.json', 'loopback-test.json']) {
      const c = resolveConfig({ file: new URL(`../configs/${name}`, import.meta.url).pathname })
      expect(c.listen.length).toBeGreaterThan(0)
    }
  })
})
