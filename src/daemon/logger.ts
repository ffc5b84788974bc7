// Structured logs with pino on stderr: human-readable (pino-pretty) when stderr is a terminal, JSON lines
// otherwise (for journald, docker and log shippers). Writes are synchronous so nothing is lost on exit.
// Every logger has a tap (observe/log-tap.ts) that `gossipd monitor` follows.
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { tappedLogger } from './observe/log-tap.js'

export async function createLogger (level: LevelWithSilent, opts: { pretty?: boolean } = {}): Promise<Logger> {
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.GOSSIPD_LOG_FORMAT !== 'json')
  const base = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }
  if (pretty) {
    try {
      const { default: build } = await import('pino-pretty')
      return tappedLogger(base, build({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }))
    } catch {
      // pino-pretty is optional: fall back to JSON
    }
  }
  return tappedLogger(base, pino.destination({ fd: 2, sync: true }))
}
