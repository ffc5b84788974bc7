// gossipd status: what the daemon is, where it listens, how busy it is.
import type { Command } from 'commander'
import { ApiRequestError, DaemonUnreachableError, type GossipClient } from '../../client/client.js'
import type { Runner } from '../command.js'
import { clientFromOptions, givenToken, type GlobalOpts } from '../connect.js'
import { UsageError } from '../errors.js'
import { duration, out, table } from '../output.js'
import { shortId, terminalSafe } from '../../wire/format.js'
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

/** the streams blocked here because their origin signed two versions of a seq (found now or in an earlier run) */
function forksLine (forked: Array<{ topic: string, origin: string, seq: number }>): string {
  // read back from disk and the wire: printed escaped
  const shown = forked.slice(0, 5).map(f => terminalSafe(`${f.topic} ${shortId(String(f.origin))} from #${f.seq}`))
  return `${forked.length}${forked.length >= 100 ? '+' : ''} streams blocked: ${shown.join(', ')}${forked.length > shown.length ? ', …' : ''}`
}

export function registerStatus (program: Command, run: Runner): void {
  program.command('status')
    .description('daemon status')
    .option('--addrs', 'print only the libp2p addresses (with /p2p/<peer id>), one per line: what other nodes pass to --peer')
    .option('--wait <duration>', 'wait up to this long (e.g. 10s, 500ms) for a daemon that is still starting')
    .action(run(async (g, o: { addrs?: boolean, wait?: string }) => {
      const s = await statusWaiting(g, o.wait != null ? waitMs(o.wait) : 0)
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
        // an origin that signed two versions of a seq: its stream is blocked here from that seq up
        ...((s.forked ?? []).length > 0 ? [['forks', forksLine(s.forked ?? [])]] : []),
        ['uptime', duration(s.uptimeMs ?? 0)],
      ]
      out(table(rows))
    }))
}

function waitMs (v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim())
  if (m == null) throw new UsageError(`--wait must be a duration like 10s, 500ms or 1m, got ${JSON.stringify(v)}`)
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 's' || m[2] == null ? 1000 : 1)
}

/** A daemon started with `&` writes api.json only once it is ready: retry until then, up to waitMs. */
async function statusWaiting (g: GlobalOpts, waitMs: number): Promise<Awaited<ReturnType<GossipClient['status']>>> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      // api.json is read again each time: it appears (or changes) when the daemon is ready
      return await clientFromOptions(g).status()
    } catch (err) {
      // a 401 with the token of api.json: a daemon restarted after a kill -9 may answer on the old address
      // before it has replaced the old api.json (and its token), which happens once it is ready
      const staleToken = err instanceof ApiRequestError && err.status === 401 && givenToken(g) == null
      const notYet = err instanceof DaemonUnreachableError || (err as NodeJS.ErrnoException).code === 'ENOENT' || staleToken
      if (!notYet || Date.now() >= deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}
