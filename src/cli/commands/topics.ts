// gossipd topics: the topics the daemon keeps, with their sizes.
import type { Command } from 'commander'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { bytes, out, table } from '../output.js'

export function registerTopics (program: Command, run: Runner): void {
  program.command('topics')
    .description('topics the daemon keeps')
    .action(run(async (g) => {
      const topics = await clientFromOptions(g).topics()
      if (g.json === true) { out(JSON.stringify(topics)); return }
      if (topics.length === 0) { out('no topics (join one with: gossipd join TOPIC, or just publish to it)'); return }
      out(table([['TOPIC', 'MESSAGES', 'BYTES', 'PEERS'], ...topics.map(t => [t.topic, String(t.messages), bytes(t.bytes), String(t.peers)])]))
    }))
}
