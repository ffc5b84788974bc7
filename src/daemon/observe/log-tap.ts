// A tap on the daemon's log stream for `gossipd monitor`: every log line also goes to the tap, which hands
// it to the monitors that asked for its level. A monitor may ask for more detail than the daemon logs
// (debug on an info daemon, as serf monitor does): the logger's level is lowered while it listens, and
// the daemon's own output keeps its configured level.
import { pino, type Logger, type LoggerOptions, type DestinationStream, type Level } from 'pino'

const TAP = Symbol.for('gossipd.logTap')

interface Sub { level: number, fn: (line: string) => void }

export class LogTap {
  private readonly subs = new Set<Sub>()
  private logger?: Logger

  constructor (private readonly baseLevel: string) {}

  /** the multistream entry: receives every line the logger emits */
  readonly stream = {
    write: (line: string): void => {
      if (this.subs.size === 0) return
      const m = /"level":(\d+)/.exec(line)
      const level = m != null ? Number(m[1]) : 30
      for (const s of this.subs) if (level >= s.level) s.fn(line.trimEnd())
    },
  }

  bind (logger: Logger): void { this.logger = logger }

  /** receive log lines at `level` and above until the returned function is called */
  subscribe (level: Level, fn: (line: string) => void): () => void {
    const sub = { level: pino.levels.values[level], fn }
    this.subs.add(sub)
    this.adjust()
    return () => { this.subs.delete(sub); this.adjust() }
  }

  private adjust (): void {
    if (this.logger == null) return
    const base = this.baseLevel === 'silent' ? Infinity : pino.levels.values[this.baseLevel]
    let want = base
    for (const s of this.subs) want = Math.min(want, s.level)
    const name = want === Infinity ? 'silent' : pino.levels.labels[want]
    if (this.logger.level !== name) this.logger.level = name
  }
}

/** pino logger writing to `dest` at `level`, with a LogTap attached (see logTapOf). */
export function tappedLogger (opts: LoggerOptions & { level: string }, dest: DestinationStream): Logger {
  const tap = new LogTap(opts.level)
  const streams = pino.multistream([
    { level: opts.level === 'silent' ? 'fatal' : opts.level as Level, stream: dest },
    { level: 'trace', stream: tap.stream },
  ])
  // silent still needs a valid level for the multistream entry; the logger itself filters everything
  const logger = pino(opts, streams)
  tap.bind(logger)
  Object.defineProperty(logger, TAP, { value: tap })
  return logger
}

/** the tap of a logger made by tappedLogger (child loggers inherit it), if any */
export function logTapOf (logger: Logger | undefined): LogTap | undefined {
  return (logger as unknown as Record<symbol, LogTap | undefined> | undefined)?.[TAP]
}
