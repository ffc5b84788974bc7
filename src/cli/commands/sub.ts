// gossipd sub TOPIC: print messages as they arrive; with --consumer, ack each one after printing it.
import type { Command } from 'commander'
import { DaemonUnreachableError, parseFromArg, type From } from '../../client/client.js'
import { messageLine } from '../../wire/format.js'
import { intAtLeast, type Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { UsageError } from '../errors.js'
import { printMessage } from '../output.js'

export function registerSub (program: Command, run: Runner): void {
  program.command('sub')
    .description('print messages of a topic as they arrive (Ctrl-C to stop)')
    .argument('<topic>', 'topic name')
    .option('-f, --from <where>', 'start at: now, beginning, offset:N, time:ISO-8601 (default: now, or the cursor of --consumer)')
    .option('-c, --consumer <name>', 'durable consumer: resume where it left off; each message is acked after it is printed')
    .option('-n, --count <n>', 'exit after N messages', intAtLeast('-n/--count', 1))
    .option('--raw', 'print each payload exactly as published (bytes, then a newline), control characters and all')
    .action(run(async (g, topic: string, o: { from?: string, consumer?: string, count?: number, raw?: boolean }) => {
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
        // `gossipd sub` is the explicit join (the API alone answers 404 for a topic it does not keep)
        join: true,
        signal: ctrl.signal,
        onGap: gap => process.stderr.write(`gossipd: gap in ${gap.topic}: ${gap.origin} #${gap.from}-${gap.to} missing\n`),
      })
      if (process.stderr.isTTY === true && g.json !== true) process.stderr.write(`subscribed to ${topic} (Ctrl-C to stop)\n`)
      let n = 0
      try {
        for await (const m of stream) {
          printMessage(m, g.json === true ? 'json' : o.raw === true ? 'raw' : 'human', () => messageLine(m, false))
          if (o.consumer != null) await client.ack(topic, o.consumer, m)
          if (o.count != null && ++n >= o.count) { stream.close(); break }
        }
      } catch (err) {
        // the connection broke under the stream (daemon killed): that is "no daemon", exit 3, not a bug
        if (ctrl.signal.aborted || !stream.endedByServer || err instanceof DaemonUnreachableError) throw err
        throw new DaemonUnreachableError(client.url, undefined, `the daemon at ${client.url} went away during the stream (${(err as Error).message})`)
      }
      if (stream.endedByServer) throw new DaemonUnreachableError(client.url, undefined, `the daemon at ${client.url} ended the stream (it stopped, or left the topic)`)
    }))
}
