// `gossipd top`: per-topic message rates, peers and consumers, refreshed in the terminal.
import type { Command } from 'commander'
import { clientFromOptions } from '../connect.js'
import { intAtLeast, seconds, type Runner } from '../command.js'
import { table } from '../output.js'
import { swarmSnapshot, type SwarmSnapshot } from '../../client/observe.js'

const avg = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x != null)
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null
}
const ms = (v: number | null | undefined): string => v == null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v))
const short = (id: string): string => id.length > 14 ? `…${id.slice(-8)}` : id

export function renderTop (s: SwarmSnapshot): string {
  const lines: string[] = []
  const self = s.self
  lines.push(`gossipd ${self.version ?? ''}  peer ${self.peerId}  ${new Date(s.now).toLocaleTimeString()}`)
  lines.push(`peers ${self.peers}  topics ${self.topics}  consumers ${self.consumers}  pending writes ${self.pendingWrites}  gossip queued ${self.gossipQueued}  skipped ${self.gossipSkipped}  shed ${self.inboundShed}  rejected ${self.rejected}`)
  lines.push(`sync: ${s.sync.pulls} pulls, ${s.sync.failed} failed, ${s.sync.stored} new messages`)
  lines.push('')
  if (s.topics.length === 0) lines.push('no topics')
  else {
    lines.push(table([['TOPIC', 'MSG/S', 'AVG/S (60s)', 'LATENCY ms', 'HELD', 'MESH', 'PEERS'], ...s.topics.map(t => [
      t.topic, String(t.rate[t.rate.length - 1] ?? 0), (t.rate.reduce((a, b) => a + b, 0) / Math.max(1, t.rate.length)).toFixed(1),
      ms(avg(t.latencyMeanMs.slice(-5))), String(t.messages), String(t.mesh.length), String(t.peers),
    ])]))
  }
  lines.push('')
  if (s.peers.length === 0) lines.push('no peers connected')
  else lines.push(table([['PEER', 'DIR', 'RTT ms', 'ADDRESS', 'TOPICS'], ...s.peers.map(p => [short(p.id), p.direction, ms(p.rtt), p.addrs.join(','), p.topics.join(',') || '-'])]))
  if (s.consumers.length > 0) {
    lines.push('')
    lines.push(table([['CONSUMER', 'TOPIC', 'LAG', 'UNACKED'], ...s.consumers.map(c => [c.name ?? '(anonymous)', c.topic, String(c.lag), String(c.unacked ?? '-')])]))
  }
  return lines.join('\n')
}

export function registerTop (program: Command, run: Runner): void {
  program.command('top')
    .description('per-topic message rates, peers and consumers, refreshed every second (q or Ctrl-C to quit)')
    .option('-i, --interval <seconds>', 'refresh period in seconds, at least 0.2 (default 1)', seconds('-i/--interval', 0.2))
    .option('-n, --iterations <n>', 'stop after N refreshes (N >= 1)', intAtLeast('-n/--iterations', 1))
    .action(run(async (g, o: { interval?: number, iterations?: number }) => {
      const client = clientFromOptions(g)
      const period = (o.interval ?? 1) * 1000
      const max = o.iterations ?? Infinity
      const tty = process.stdout.isTTY === true && g.json !== true
      let stop = false
      const quit = (): void => { stop = true }
      process.once('SIGINT', quit)
      process.once('SIGTERM', quit)
      if (tty && process.stdin.isTTY === true) {
        process.stdin.setRawMode(true)
        process.stdin.on('data', (d: Buffer) => { if (d[0] === 0x71 || d[0] === 0x03) quit() })
      }
      try {
        for (let i = 0; i < max && !stop; i++) {
          const snap = await swarmSnapshot(client)
          if (g.json === true) process.stdout.write(JSON.stringify(snap) + '\n')
          // home + clear screen: redraw in place like top(1)
          else process.stdout.write((tty ? '\x1b[H\x1b[2J' : (i > 0 ? '\n' : '')) + renderTop(snap) + '\n')
          if (i + 1 < max) await new Promise(resolve => setTimeout(resolve, period))
        }
      } finally {
        if (tty && process.stdin.isTTY === true) { process.stdin.setRawMode(false); process.stdin.pause() }
      }
    }))
}
