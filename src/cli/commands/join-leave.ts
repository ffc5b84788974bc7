// gossipd join TOPIC / leave TOPIC: make the daemon subscribe or unsubscribe.
import type { Command } from 'commander'
import type { MembershipResult } from '../../wire/results.js'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { out } from '../output.js'

export function registerJoinLeave (program: Command, run: Runner): void {
  program.command('join')
    .description('make the daemon subscribe to a topic (kept across restarts)')
    .argument('<topic>', 'topic name')
    .action(run(async (g, topic: string) => {
      await clientFromOptions(g).join(topic)
      const r: MembershipResult = { topic, joined: true }
      out(g.json === true ? JSON.stringify(r) : `joined ${topic}`)
    }))

  program.command('leave')
    .description('make the daemon unsubscribe from a topic')
    .argument('<topic>', 'topic name')
    .option('--purge', 'also delete its stored messages and consumer cursors')
    .action(run(async (g, topic: string, o: { purge?: boolean }) => {
      await clientFromOptions(g).leave(topic, { purge: o.purge })
      const r: MembershipResult = { topic, joined: false }
      out(g.json === true ? JSON.stringify(r) : `left ${topic}`)
    }))
}
