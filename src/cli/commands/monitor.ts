// `gossipd monitor`: stream the daemon's logs as they are written, at a chosen level (like serf monitor);
// the daemon's own log level does not limit it.
import { Option, type Command } from 'commander'
import { clientFromOptions } from '../connect.js'
import type { Runner } from '../command.js'
import { followLogs } from '../../client/observe.js'
import { terminalSafe } from '../../wire/format.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
const NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname'])
/** log lines may quote what peers sent (an address announced over mDNS, an error quoting it): no control
 * character gets through, newlines and bidi overrides included, so one line stays one line */
const safe = terminalSafe

export function formatLogLine (line: string): string {
  let o: Record<string, unknown>
  try { o = JSON.parse(line) } catch { return safe(line) }
  const t = typeof o.time === 'string' ? o.time.slice(11, 23) : new Date(Number(o.time ?? Date.now())).toISOString().slice(11, 23)
  const extra = Object.entries(o).filter(([k]) => !SKIP.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
  return safe(`${t} ${(NAMES[Number(o.level)] ?? String(o.level)).padEnd(5)} ${String(o.msg ?? '')}${extra !== '' ? `  ${extra}` : ''}`)
}

export function registerMonitor (program: Command, run: Runner): void {
  program.command('monitor')
    .description('stream the daemon\'s logs live (Ctrl-C to stop)')
    .addOption(new Option('-L, --log-level <level>', 'show this level and above').choices(LEVELS).default('info'))
    .action(run(async (g, o: { logLevel: string }) => {
      const ctrl = new AbortController()
      process.once('SIGINT', () => ctrl.abort())
      process.once('SIGTERM', () => ctrl.abort())
      if (process.stderr.isTTY === true && g.json !== true) process.stderr.write(`monitoring at ${o.logLevel} (Ctrl-C to stop)\n`)
      await followLogs(clientFromOptions(g), o.logLevel, line => {
        process.stdout.write((g.json === true ? line : formatLogLine(line)) + '\n')
      }, { signal: ctrl.signal, onDropped: n => process.stderr.write(`gossipd: ${n} log lines dropped (output too slow)\n`) })
    }))
}
