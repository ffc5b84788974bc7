// gossipd peers: the connected peers.
import type { Command } from 'commander'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { out, table } from '../output.js'

export function registerPeers (program: Command, run: Runner): void {
  program.command('peers')
    .description('connected peers')
    .action(run(async (g) => {
      const peers = await clientFromOptions(g).peers()
      if (g.json === true) { out(JSON.stringify(peers)); return }
      if (peers.length === 0) { out('no peers connected'); return }
      out(table([['PEER', 'DIRECTION', 'ADDRESS', 'TOPICS'], ...peers.map(p => [p.id, p.direction, p.addrs.join(','), p.topics.join(',') || '-'])]))
    }))
}
