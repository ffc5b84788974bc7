// gossipd status: what the daemon is, where it listens, how busy it is.
import type { Command } from 'commander'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { duration, out, table } from '../output.js'

export function registerStatus (program: Command, run: Runner): void {
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
}
