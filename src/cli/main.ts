// The gossipd command line. Process globals (argv, env, exit codes, signals) live here and in src/daemon.
import '../polyfill.js'
import { Command, Option, CommanderError } from 'commander'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { GossipClient, ApiRequestError, DaemonUnreachableError, parseFromArg, type From } from '../client/client.js'
import { EXIT } from '../wire/exit-codes.js'
import { defaultDataDir } from '../wire/api-file.js'
import { messageLine } from '../wire/format.js'
import { VERSION } from '../version.js'
import { ConfigError, LOG_LEVELS, type RawConfig } from '../daemon/config.js'

class UsageError extends Error {}

interface GlobalOpts { data?: string, api?: string, token?: string, json?: boolean }

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v]
const int = (name: string) => (v: string): number => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(v)}`)
  return Number(v)
}

function apiUrl (api: string): string {
  const s = api.trim()
  if (/^https?:\/\//.test(s)) return s
  if (/^\d+$/.test(s)) return `http://127.0.0.1:${s}`
  return `http://${s}`
}

/** --api/--token (or GOSSIPD_API/GOSSIPD_TOKEN) win; otherwise api.json in --data / GOSSIPD_DATA / ~/.gossipd */
export function clientFromOptions (o: GlobalOpts, env: NodeJS.ProcessEnv = process.env): GossipClient {
  const dataDir = o.data ?? defaultDataDir(env)
  const token = o.token ?? (env.GOSSIPD_TOKEN || undefined)
  const api = o.api ?? (env.GOSSIPD_API || undefined)
  if (api != null) {
    if (token != null) return new GossipClient({ url: apiUrl(api), token })
    try {
      return GossipClient.fromDataDir(dataDir, { url: apiUrl(api) })
    } catch {
      throw new UsageError(`--api ${api} needs a token: pass --token or set GOSSIPD_TOKEN (it is in the daemon's data dir, api.json)`)
    }
  }
  return GossipClient.fromDataDir(dataDir, { token })
}

function out (s: string): void { process.stdout.write(s + '\n') }

function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join('  ')).join('\n')
}

function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  const u = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(1)} ${u[i]}`
}

function duration (ms: number): string {
  const s = Math.floor(ms / 1000)
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']] as const
  const p = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`)
  return p.length > 0 ? p.slice(0, 2).join(' ') : '0s'
}

function fail (err: unknown, json: boolean): number {
  let code: number = EXIT.ERROR
  let errCode = 'ERROR'
  let message = (err as Error)?.message ?? String(err)
  if (err instanceof DaemonUnreachableError) { code = EXIT.NO_DAEMON; errCode = 'NO_DAEMON' } else if (err instanceof ApiRequestError) {
    errCode = err.code
    code = err.status === 401 || err.status === 403 ? EXIT.AUTH : err.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REJECTED
    if (err.status === 401) message += ' (is the token from this daemon\'s api.json?)'
  } else if (err instanceof ConfigError) { code = EXIT.USAGE; errCode = 'CONFIG'; message = `invalid configuration: ${message}` } else if (err instanceof UsageError) { code = EXIT.USAGE; errCode = 'USAGE' }
  if (json) process.stderr.write(JSON.stringify({ error: { code: errCode, message } }) + '\n')
  else process.stderr.write(`gossipd: ${message}\n`)
  return code
}

async function readLines (onLine: (line: string) => Promise<void>): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    if (line === '') continue
    await onLine(line)
  }
}

type Runner = (fn: (g: GlobalOpts, ...args: any[]) => Promise<number | void>) => (...args: any[]) => Promise<void>

export function buildProgram (run: Runner): Command {
  const program = new Command('gossipd')
  // before the subcommands are added, so they inherit it: usage errors become exit code 2, not 1
  program.exitOverride()
  program
    .description('peer-to-peer gossip daemon with a durable local queue')
    .version(VERSION)
    .option('-d, --data <dir>', 'data dir of the daemon (env GOSSIPD_DATA, default ~/.gossipd)')
    .option('--api <host:port|url>', 'daemon API address (env GOSSIPD_API; clients default to the one in <data>/api.json)')
    .option('--token <token>', 'API bearer token (env GOSSIPD_TOKEN; default: from <data>/api.json)')
    .option('--json', 'machine-readable JSON output (one JSON value per line)')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Exit codes: 0 ok, 1 unexpected error, 2 usage/config error, 3 no daemon running, 4 token refused,
            5 request rejected (bad topic, too large, ...), 6 daemon busy/failing,
            10 data dir locked (start), 11 address in use (start), 130 interrupted.`)

  program.command('start')
    .description('run the daemon in the foreground (logs on stderr; SIGINT/SIGTERM stop it cleanly)')
    .option('-c, --config <file>', 'config file (JSON, comments allowed; env GOSSIPD_CONFIG)')
    .option('-l, --listen <multiaddr>', 'libp2p listen address, repeatable (env GOSSIPD_LISTEN, comma-separated; default /ip4/0.0.0.0/tcp/7421)', collect)
    .option('--mdns', 'discover peers on the LAN by mDNS (the default)')
    .option('--no-mdns', 'do not use mDNS (env GOSSIPD_MDNS=false)')
    .option('-p, --peer <multiaddr>', 'static peer /ip4/HOST/tcp/PORT/p2p/PEERID, repeatable (env GOSSIPD_PEERS)', collect)
    .option('-t, --topic <topic>', 'topic to join at start, repeatable (env GOSSIPD_TOPICS)', collect)
    .option('--retention-max-messages <n>', 'keep at most N messages per topic (default 1000000)')
    .option('--retention-max-bytes <size>', 'keep at most SIZE per topic, e.g. 512MB (default 1GiB)')
    .option('--retention-max-age <duration>', 'drop messages older than this, e.g. 7d, 12h; 0 = never (default 7d)')
    .option('--max-payload <size>', 'largest accepted payload (default 1MiB, at most 16MiB)')
    .addOption(new Option('--log-level <level>', 'log level (env GOSSIPD_LOG_LEVEL)').choices(LOG_LEVELS))
    .addHelpText('after', `
The API address is --api (default 127.0.0.1:7420; :0 picks a free port). The actual address and a
fresh bearer token are written to <data>/api.json (mode 0600), where the other commands find them.
Example: gossipd start --data /tmp/a --listen /ip4/127.0.0.1/tcp/7421 --api 127.0.0.1:7420 --no-mdns`)
    .action(async (o: Record<string, any>, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOpts & Record<string, any>
      const src = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli' || program.getOptionValueSource(k) === 'cli'
      const flags: RawConfig = {}
      if (src('data')) flags.dataDir = g.data
      if (src('api')) flags.api = g.api
      if (src('listen')) flags.listen = o.listen
      if (src('mdns')) flags.mdns = o.mdns
      if (src('peer')) flags.peers = o.peer
      if (src('topic')) flags.topics = o.topic
      if (src('logLevel')) flags.logLevel = o.logLevel
      if (src('maxPayload')) flags.maxPayloadBytes = o.maxPayload
      const retention: Record<string, unknown> = {}
      if (src('retentionMaxMessages')) retention.maxMessages = o.retentionMaxMessages
      if (src('retentionMaxBytes')) retention.maxBytes = o.retentionMaxBytes
      if (src('retentionMaxAge')) retention.maxAge = o.retentionMaxAge
      if (Object.keys(retention).length > 0) flags.retention = retention
      let code: number
      try {
        const { resolveConfig } = await import('../daemon/config.js')
        const cfg = resolveConfig({ flags, env: process.env, file: o.config })
        const { createLogger } = await import('../daemon/logger.js')
        const log = await createLogger(cfg.logLevel)
        const { runDaemon } = await import('../daemon/daemon.js')
        code = await runDaemon(cfg, log)
      } catch (err) {
        code = fail(err, g.json === true)
      }
      process.exit(code)
    })

  program.command('pub')
    .description('publish a message; without MESSAGE, publishes each line of stdin as one message (empty lines are skipped)')
    .argument('<topic>', 'topic name')
    .argument('[message]', 'message text (UTF-8)')
    .option('--base64', 'MESSAGE (or each stdin line) is base64-encoded bytes')
    .action(run(async (g, topic: string, message: string | undefined, o: { base64?: boolean }) => {
      const client = clientFromOptions(g)
      const one = async (text: string): Promise<void> => {
        const r = await client.publish(topic, o.base64 === true ? new Uint8Array(Buffer.from(text, 'base64')) : text)
        out(g.json === true ? JSON.stringify(r) : `published to ${r.topic}: seq ${r.seq}, offset ${r.offset}`)
      }
      if (message != null) await one(message)
      else {
        if (process.stdin.isTTY === true) process.stderr.write('reading messages from stdin, one per line (Ctrl-D to end)\n')
        await readLines(one)
      }
    }))

  program.command('sub')
    .description('print messages of a topic as they arrive (Ctrl-C to stop)')
    .argument('<topic>', 'topic name')
    .option('-f, --from <where>', 'start at: now, beginning, offset:N, time:ISO-8601 (default: now, or the cursor of --consumer)')
    .option('-c, --consumer <name>', 'durable consumer: resume where it left off; each message is acked after it is printed')
    .option('-n, --count <n>', 'exit after N messages', int('--count'))
    .action(run(async (g, topic: string, o: { from?: string, consumer?: string, count?: number }) => {
      const client = clientFromOptions(g)
      let from: From | undefined
      if (o.from != null) {
        try { from = parseFromArg(o.from) } catch (err) { throw new UsageError((err as Error).message) }
      }
      const ctrl = new AbortController()
      const stop = (): void => ctrl.abort()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const stream = await client.stream(topic, {
        from,
        consumer: o.consumer,
        signal: ctrl.signal,
        onGap: gap => process.stderr.write(`gossipd: gap in ${gap.topic}: ${gap.origin} #${gap.from}-${gap.to} missing\n`),
      })
      if (process.stderr.isTTY === true && g.json !== true) process.stderr.write(`subscribed to ${topic} (Ctrl-C to stop)\n`)
      let n = 0
      for await (const m of stream) {
        out(g.json === true ? JSON.stringify(m) : messageLine(m, false))
        if (o.consumer != null) await client.ack(topic, o.consumer, m)
        if (o.count != null && ++n >= o.count) { stream.close(); break }
      }
      if (stream.endedByServer) throw new DaemonUnreachableError(client.url, undefined, `the daemon at ${client.url} ended the stream (it stopped?)`)
    }))

  program.command('history')
    .description('messages of a topic held by the daemon, oldest first')
    .argument('<topic>', 'topic name')
    .option('--after <offset>', 'only messages after this local offset', int('--after'))
    .option('--limit <n>', 'at most N messages (default 100; without --after: the last N)', int('--limit'))
    .action(run(async (g, topic: string, o: { after?: number, limit?: number }) => {
      const msgs = await clientFromOptions(g).history(topic, { after: o.after, limit: o.limit })
      if (g.json === true) { for (const m of msgs) out(JSON.stringify(m)); return }
      if (msgs.length === 0) { out(`no messages in ${topic}`); return }
      for (const m of msgs) out(messageLine(m, true))
    }))

  program.command('peers')
    .description('connected peers')
    .action(run(async (g) => {
      const peers = await clientFromOptions(g).peers()
      if (g.json === true) { out(JSON.stringify(peers)); return }
      if (peers.length === 0) { out('no peers connected'); return }
      out(table([['PEER', 'DIRECTION', 'ADDRESS', 'TOPICS'], ...peers.map(p => [p.id, p.direction, p.addrs.join(','), p.topics.join(',') || '-'])]))
    }))

  program.command('topics')
    .description('topics the daemon keeps')
    .action(run(async (g) => {
      const topics = await clientFromOptions(g).topics()
      if (g.json === true) { out(JSON.stringify(topics)); return }
      if (topics.length === 0) { out('no topics (join one with: gossipd join TOPIC, or just publish to it)'); return }
      out(table([['TOPIC', 'MESSAGES', 'BYTES', 'PEERS'], ...topics.map(t => [t.topic, String(t.messages), bytes(t.bytes), String(t.peers)])]))
    }))

  program.command('join')
    .description('make the daemon subscribe to a topic (kept across restarts)')
    .argument('<topic>', 'topic name')
    .action(run(async (g, topic: string) => {
      await clientFromOptions(g).join(topic)
      out(g.json === true ? JSON.stringify({ topic, joined: true }) : `joined ${topic}`)
    }))

  program.command('leave')
    .description('make the daemon unsubscribe from a topic')
    .argument('<topic>', 'topic name')
    .option('--purge', 'also delete its stored messages and consumer cursors')
    .action(run(async (g, topic: string, o: { purge?: boolean }) => {
      await clientFromOptions(g).leave(topic, { purge: o.purge })
      out(g.json === true ? JSON.stringify({ topic, joined: false }) : `left ${topic}`)
    }))

  program.command('status')
    .description('daemon status')
    .option('--addrs', 'print only the libp2p addresses (with /p2p/<peer id>), one per line: what other nodes pass to --peer')
    .action(run(async (g, o: { addrs?: boolean }) => {
      const s = await clientFromOptions(g).status()
      if (o.addrs === true) { for (const a of s.addresses) out(a); return }
      if (g.json === true) { out(JSON.stringify(s)); return }
      const rows: string[][] = [
        ['peer id', s.peerId],
        ['version', `${s.version ?? '?'} (pid ${s.pid ?? '?'})`],
        ['data dir', s.dataDir ?? '?'],
        ['api', s.api ?? '?'],
        ['listening', s.addresses.join('\n           ') || '-'],
        ['mdns', s.mdns === true ? 'on' : 'off'],
        ['peers', String(s.peers)],
        ['topics', String(s.topics)],
        ['consumers', String(s.consumers)],
        ['pending', `${s.pendingWrites} writes`],
        ['uptime', duration(s.uptimeMs ?? 0)],
      ]
      out(table(rows))
    }))

  program.command('repl')
    .description('interactive shell: pub, sub, history, peers, ... with live messages')
    .action(run(async (g) => {
      const client = clientFromOptions(g)
      await client.status()
      const { runRepl } = await import('../repl/repl.js')
      const dataDir = g.data ?? defaultDataDir(process.env)
      const historyFile = existsSync(dataDir) ? join(dataDir, 'repl_history') : undefined
      await runRepl({ client, input: process.stdin, output: process.stdout, historyFile })
    }))

  return program
}

export async function main (argv: string[] = process.argv): Promise<void> {
  let json = argv.includes('--json')
  const run = (fn: (g: GlobalOpts, ...args: any[]) => Promise<number | void>) => async (...args: any[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command
    const g = cmd.optsWithGlobals() as GlobalOpts
    json = g.json === true
    let code: number = EXIT.OK
    try {
      code = (await fn(g, ...args.slice(0, -1))) ?? EXIT.OK
    } catch (err) {
      code = fail(err, json)
    }
    process.exitCode = code
    // streams and sockets may hold the loop open: exit once stdout is flushed
    process.stdout.write('', () => process.exit(code))
  }
  const program = buildProgram(run)
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE)
    process.exit(fail(err, json))
  }
}
