// gossipd history TOPIC: the stored messages of a topic, oldest first.
import type { Command } from 'commander'
import { messageLine } from '../../wire/format.js'
import { intBetween, type Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { out, printMessage } from '../output.js'

export function registerHistory (program: Command, run: Runner): void {
  program.command('history')
    .description('messages of a topic held by the daemon, oldest first')
    .argument('<topic>', 'topic name')
    .option('--after <offset>', 'only messages after this local offset', intBetween('--after', 0, 999_999_999_999_999))
    .option('--limit <n>', 'at most N messages (default 100; without --after: the last N)', intBetween('--limit', 1, 10_000))
    .option('--raw', 'print each payload exactly as published (bytes, then a newline), control characters and all')
    .action(run(async (g, topic: string, o: { after?: number, limit?: number, raw?: boolean }) => {
      const msgs = await clientFromOptions(g).history(topic, { after: o.after, limit: o.limit })
      if (g.json === true || o.raw === true) { for (const m of msgs) printMessage(m, g.json === true ? 'json' : 'raw', () => ''); return }
      if (msgs.length === 0) { out(`no messages in ${topic}`); return }
      for (const m of msgs) out(messageLine(m, true))
    }))
}
