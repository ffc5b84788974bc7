// gossipd status: what the daemon is, where it listens, how busy it is.
import type { Command } from 'commander'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { duration, out, table } from '../output.js'
import type { SyncHealthJson } from '../../wire/results.js'

/** one line: pulls and failures, the last successful pull, holes and gaps, peers backing off */
function syncLine (y: SyncHealthJson): string {
  const last = Math.max(0, ...y.peers.map(p => p.lastSuccess))
  const backing = y.peers.filter(p => p.backoffMs > 0).length
  const parts = [`${y.pulls} pulls`, `${y.failures} failed (${y.stalls} stalled)`, `last ok ${last > 0 ? `${duration(Date.now() - last)} ago` : 'never'}`,
    `${y.holes} holes`, `${y.gapsWaiting} gaps waiting`, `${y.gapsGivenUp} given up`]
  if (backing > 0) parts.push(`${backing} peers backing off`)
  return parts.join(', ')
}

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
        ...(s.sync != null ? [['sync', syncLine(s.sync)]] : []),
        ['uptime', duration(s.uptimeMs ?? 0)],
      ]
      out(table(rows))
    }))
}
