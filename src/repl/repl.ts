// The interactive shell: `gossipd repl`. Talks to the daemon only through the client. Incoming messages
// of subscribed topics are printed above the prompt without mangling the line being typed.
// No process globals: input, output and the history file are parameters, so tests can drive it in-process.
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline'
import { readFileSync, writeFileSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { GossipClient, ApiRequestError, DaemonUnreachableError, parseFromArg, type MessageStream } from '../client/client.js'
import { formatMessage, shortId } from '../wire/format.js'

export interface ReplOptions {
  client: GossipClient
  input: Readable
  output: Writable
  /** treat the streams as a terminal (line editing, completion, prompt refresh); default: output.isTTY */
  terminal?: boolean
  /** persistent history, one command per line (created 0600) */
  historyFile?: string
  historySize?: number
  prompt?: string
  /**
   * a fresh client for the daemon, from api.json again: called when the daemon is unreachable or refuses
   * the token (it restarted, with a new port or token); the failed command is then tried once more
   */
  reconnect?: () => GossipClient
}

export const COMMANDS: Record<string, { args: string, help: string }> = {
  pub: { args: 'TOPIC MESSAGE...', help: 'publish MESSAGE (the rest of the line) to TOPIC' },
  sub: { args: 'TOPIC [FROM]', help: 'show messages of TOPIC live here; FROM: now (default), beginning, offset:N, time:ISO' },
  unsub: { args: 'TOPIC', help: 'stop showing TOPIC here (the daemon stays subscribed)' },
  join: { args: 'TOPIC', help: 'make the daemon subscribe to TOPIC' },
  leave: { args: 'TOPIC', help: 'make the daemon unsubscribe from TOPIC' },
  history: { args: 'TOPIC [LIMIT]', help: 'the last LIMIT (default 20) messages of TOPIC' },
  peers: { args: '', help: 'connected peers' },
  topics: { args: '', help: 'topics the daemon keeps' },
  status: { args: '', help: 'daemon status' },
  help: { args: '', help: 'this help' },
  exit: { args: '', help: 'leave (also quit, Ctrl-D, Ctrl-C)' },
}
const ALIASES: Record<string, string> = { quit: 'exit', '?': 'help', subscribe: 'sub', publish: 'pub', unsubscribe: 'unsub' }
const TOPIC_COMMANDS = new Set(['pub', 'sub', 'unsub', 'join', 'leave', 'history'])

export class Repl {
  private client: GossipClient
  private readonly output: Writable
  private readonly terminal: boolean
  private readonly rl: Interface
  private readonly subs = new Map<string, MessageStream>()
  /** topics whose stream the daemon ended (it stopped): reopened after the offset seen once it is back */
  private readonly lost = new Map<string, number | undefined>()
  /** lost topics being reopened right now: a sub or unsub typed meanwhile removes the topic, and wins */
  private readonly reopening = new Set<string>()
  /** the pending retry of lost streams, and how many were scheduled since a stream last delivered a message */
  private retryTimer: NodeJS.Timeout | undefined
  private retries = 0
  private readonly topics = new Set<string>()
  private history: string[] = []
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  private rlClosed = false
  readonly done: Promise<void>

  constructor (private readonly opts: ReplOptions) {
    this.client = opts.client
    this.output = opts.output
    this.terminal = opts.terminal ?? ((opts.output as { isTTY?: boolean }).isTTY === true)
    const historySize = opts.historySize ?? 1000
    if (opts.historyFile != null) {
      try {
        this.history = readFileSync(opts.historyFile, 'utf8').split('\n').filter(l => l.trim() !== '').reverse().slice(0, historySize)
      } catch { this.history = [] }
    }
    this.rl = createInterface({
      input: opts.input,
      output: opts.output,
      terminal: this.terminal,
      prompt: opts.prompt ?? 'gossipd> ',
      history: [...this.history],
      historySize,
      removeHistoryDuplicates: true,
      completer: (line: string) => this.complete(line),
    })
    this.rl.on('SIGINT', () => this.rl.close())
    this.done = new Promise(resolve => {
      this.rl.on('close', () => {
        this.rlClosed = true
        // finish the commands already typed (piped input), then leave
        this.queue = this.queue.then(async () => await this.shutdown()).then(resolve, resolve)
      })
    })
    this.rl.on('line', line => {
      // our own record (readline keeps none when the input is not a terminal): newest first, no duplicates
      const entry = line.trim()
      if (entry !== '') this.history = [entry, ...this.history.filter(h => h !== entry)].slice(0, historySize)
      this.queue = this.queue.then(async () => await this.run(line)).catch(err => this.print(`error: ${(err as Error).message}`))
    })
  }

  async start (): Promise<void> {
    this.print(`connected to gossipd at ${this.client.url}; type help for commands, Ctrl-D to leave`)
    try {
      for (const t of await this.client.topics()) this.topics.add(t.topic)
    } catch (err) {
      this.print(`warning: ${(err as Error).message}`)
    }
    this.reprompt()
  }

  /** Print a line above the prompt, then redraw the prompt and whatever was being typed. */
  print (line: string): void {
    if (this.terminal && !this.rlClosed) {
      clearLine(this.output, 0)
      cursorTo(this.output, 0)
      this.output.write(line + '\n')
      this.rl.prompt(true)
    } else {
      this.output.write(line + '\n')
    }
  }

  complete (line: string): [string[], string] {
    const words = line.split(/\s+/)
    if (words.length <= 1) {
      const names = [...Object.keys(COMMANDS), 'quit']
      const hits = names.filter(c => c.startsWith(words[0] ?? ''))
      return [hits.map(h => h + ' '), words[0] ?? '']
    }
    const cmd = ALIASES[words[0]] ?? words[0]
    if (words.length === 2 && TOPIC_COMMANDS.has(cmd)) {
      const pool = cmd === 'unsub' ? [...this.subs.keys()] : [...new Set([...this.topics, ...this.subs.keys()])]
      const hits = pool.filter(t => t.startsWith(words[1])).sort()
      return [hits.map(h => h + ' '), words[1]]
    }
    return [[], words[words.length - 1]]
  }

  private async run (raw: string): Promise<void> {
    const line = raw.trim()
    if (line === '') { this.reprompt(); return }
    const m = /^(\S+)\s*(.*)$/.exec(line)!
    const cmd = ALIASES[m[1]] ?? m[1]
    const rest = m[2]
    const args = rest === '' ? [] : rest.split(/\s+/)
    try {
      try {
        await this.exec(cmd, m[1], rest, args)
      } catch (err) {
        if (!await this.reconnect(err)) throw err
        await this.exec(cmd, m[1], rest, args)
      }
    } catch (err) {
      if (err instanceof UsageError) this.print(`usage: ${err.message}`)
      else if (err instanceof ApiRequestError) this.print(`error: ${err.message} (${err.code})`)
      else this.print(`error: ${(err as Error).message}`)
    }
    this.reprompt()
  }

  /** After a failure that says the daemon went away or forgot our token: read api.json again and resume. */
  private async reconnect (err: unknown): Promise<boolean> {
    const stale = err instanceof DaemonUnreachableError || (err instanceof ApiRequestError && (err.status === 401 || err.status === 403))
    if (!stale || this.opts.reconnect == null) return false
    let fresh: GossipClient
    try {
      fresh = this.opts.reconnect()
      await fresh.status()
    } catch {
      return false
    }
    this.client = fresh
    this.print(`reconnected to gossipd at ${fresh.url}`)
    await this.resubscribe()
    return true
  }

  /** Reopen every lost stream after the offset it had shown; false if one could not be reopened. */
  private async resubscribe (): Promise<boolean> {
    let all = true
    for (const [topic, last] of [...this.lost]) {
      if (this.closed) return true
      // another resubscribe (a command's reconnect, or the retry) took it already, or the user unsubscribed
      if (!this.lost.has(topic) || this.reopening.has(topic)) continue
      this.lost.delete(topic)
      if (this.subs.has(topic)) continue
      this.reopening.add(topic)
      try {
        const stream = await this.client.stream(topic, { from: last != null ? { offset: last + 1 } : 'now', join: true, onGap: g => this.print(`[${topic}] gap: ${shortId(g.origin)} #${g.from}-${g.to} are missing`) })
        // the user typed unsub (or sub, which opened a stream of its own) while this one was being opened
        if (this.closed || !this.reopening.has(topic) || this.subs.has(topic)) { stream.close(); if (this.closed) return true; continue }
        this.subs.set(topic, stream)
        void this.follow(topic, stream)
        this.print(`resubscribed to ${topic}`)
      } catch (e) {
        // kept for the next retry, unless the user subscribed again or unsubscribed meanwhile
        if (this.reopening.has(topic) && !this.subs.has(topic)) {
          this.lost.set(topic, last)
          this.print(`[${topic}] could not resubscribe: ${(e as Error).message}`)
          all = false
        }
      } finally {
        this.reopening.delete(topic)
      }
    }
    return all
  }

  /**
   * A stream that ended (the daemon stopped, froze past the idle deadline, or dropped it) is retried on its
   * own, as NATS clients do, 1 s after the loss and then backing off to 30 s; a command that finds the
   * daemon gone still retries at once.
   */
  private scheduleRetry (): void {
    if (this.closed || this.retryTimer != null || this.lost.size === 0) return
    // the backoff starts over only once a stream delivers a message: a daemon that takes the stream and
    // drops it again at once is not asked every second
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.retries++, 5))
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; void this.retryLost() }, delay)
    this.retryTimer.unref()
  }

  private async retryLost (): Promise<void> {
    if (this.closed || this.lost.size === 0) return
    let ok = false
    try {
      await this.client.status()
      ok = await this.resubscribe()
    } catch (err) {
      try { ok = await this.reconnect(err) && this.lost.size === 0 } catch { ok = false }
    }
    if (!ok) this.scheduleRetry()
  }

  private async exec (cmd: string, name: string, rest: string, args: string[]): Promise<void> {
    switch (cmd) {
      case 'help': this.help(); break
      case 'exit': this.rl.close(); return
      case 'pub': {
        const pm = /^(\S+)\s+([\s\S]*)$/.exec(rest)
        if (pm == null) throw new UsageError('pub TOPIC MESSAGE...')
        const r = await this.client.publish(pm[1], pm[2])
        this.topics.add(pm[1])
        this.print(`published to ${pm[1]}: seq ${r.seq}, offset ${r.offset}`)
        break
      }
      case 'sub': {
        if (args.length < 1 || args.length > 2) throw new UsageError('sub TOPIC [FROM]')
        const topic = args[0]
        if (this.subs.has(topic)) { this.print(`already showing ${topic}`); break }
        const stream = await this.client.stream(topic, {
          from: args[1] != null ? parseFromArg(args[1], 'FROM') : 'now',
          // `sub` in the REPL is the explicit join
          join: true,
          onGap: g => this.print(`[${topic}] gap: ${shortId(g.origin)} #${g.from}-${g.to} are missing`),
        })
        // a lost stream reopened by the retry while this one was being opened: the one asked for here wins
        const reopened = this.subs.get(topic)
        if (reopened != null) { this.subs.delete(topic); reopened.close() }
        this.subs.set(topic, stream)
        this.lost.delete(topic)
        this.reopening.delete(topic)
        this.topics.add(topic)
        this.print(`subscribed to ${topic}`)
        void this.follow(topic, stream)
        break
      }
      case 'unsub': {
        if (args.length !== 1) throw new UsageError('unsub TOPIC')
        const s = this.subs.get(args[0])
        // a lost stream is not retried once unsubscribed
        if (s == null) {
          // dropped from both: not retried, and a stream being reopened is closed when it arrives
          const lost = this.lost.delete(args[0])
          const reopening = this.reopening.delete(args[0])
          this.print(lost || reopening ? `unsubscribed from ${args[0]}` : `not showing ${args[0]}`)
          break
        }
        this.subs.delete(args[0])
        s.close()
        this.print(`unsubscribed from ${args[0]}`)
        break
      }
      case 'join': {
        if (args.length !== 1) throw new UsageError('join TOPIC')
        await this.client.join(args[0])
        this.topics.add(args[0])
        this.print(`the daemon now keeps ${args[0]}`)
        break
      }
      case 'leave': {
        if (args.length !== 1) throw new UsageError('leave TOPIC')
        await this.client.leave(args[0])
        this.topics.delete(args[0])
        this.print(`the daemon left ${args[0]}`)
        break
      }
      case 'history': {
        if (args.length < 1 || args.length > 2 || (args[1] != null && !/^\d+$/.test(args[1]))) throw new UsageError('history TOPIC [LIMIT]')
        const msgs = await this.client.history(args[0], { limit: Number(args[1] ?? 20) })
        if (msgs.length === 0) this.print(`no messages in ${args[0]}`)
        for (const msg of msgs) this.print(formatMessage(msg, false))
        break
      }
      case 'peers': {
        const peers = await this.client.peers()
        if (peers.length === 0) this.print('no peers connected')
        for (const p of peers) this.print(`${p.id}  ${p.direction}  ${p.addrs.join(',')}  ${p.topics.join(',') || '-'}`)
        break
      }
      case 'topics': {
        const topics = await this.client.topics()
        if (topics.length === 0) this.print('no topics')
        for (const t of topics) { this.topics.add(t.topic); this.print(`${t.topic}  ${t.messages} messages, ${t.peers} peers${this.subs.has(t.topic) ? ', shown here' : ''}`) }
        break
      }
      case 'status': {
        const s = await this.client.status()
        this.print(`peer ${s.peerId}\npeers ${s.peers}, topics ${s.topics}, consumers ${s.consumers}, pending writes ${s.pendingWrites}\nlistening ${s.addresses.join(' ')}`)
        break
      }
      default:
        this.print(`unknown command ${JSON.stringify(name)}; type help`)
    }
  }

  private reprompt (): void {
    if (this.terminal && !this.rlClosed) this.rl.prompt()
  }

  private async follow (topic: string, stream: MessageStream): Promise<void> {
    try {
      for await (const m of stream) { this.retries = 0; this.print(formatMessage(m)) }
      if (stream.endedByServer && this.subs.get(topic) === stream) {
        this.print(`[${topic}] the daemon closed the stream`)
        this.lost.set(topic, stream.lastEventId)
        this.scheduleRetry()
      }
    } catch (err) {
      if (this.subs.get(topic) === stream) {
        this.print(`[${topic}] stream failed: ${(err as Error).message}`)
        this.lost.set(topic, stream.lastEventId)
        this.scheduleRetry()
      }
    } finally {
      if (this.subs.get(topic) === stream) this.subs.delete(topic)
    }
  }

  private help (): void {
    const lines = Object.entries(COMMANDS).map(([c, { args, help }]) => `  ${`${c} ${args}`.padEnd(24)} ${help}`)
    this.print(['commands:', ...lines].join('\n'))
  }

  private async shutdown (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    for (const s of this.subs.values()) s.close()
    this.subs.clear()
    if (this.opts.historyFile != null) {
      try {
        writeFileSync(this.opts.historyFile, [...this.history].reverse().join('\n') + (this.history.length > 0 ? '\n' : ''), { mode: 0o600 })
      } catch { /* history is a convenience */ }
    }
    if (this.terminal) this.output.write('\n')
  }

  close (): void {
    this.rl.close()
  }
}

class UsageError extends Error {}

/** Run the REPL until the input ends, exit, Ctrl-D or Ctrl-C. */
export async function runRepl (opts: ReplOptions): Promise<void> {
  const repl = new Repl(opts)
  await repl.start()
  await repl.done
}
