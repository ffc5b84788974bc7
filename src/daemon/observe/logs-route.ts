// GET /v1/logs?level=debug: the daemon's log lines as they are written, for `gossipd monitor`.
import type { Level } from 'pino'
import type { LogTap } from './log-tap.js'
import type { SseStreams } from './sse.js'
import type { ApiApp } from '../api/context.js'
import type { StreamSlots } from '../api/stream-slots.js'

export const MONITOR_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

export function logsRoute (app: ApiApp, tap: LogTap | undefined, streams: SseStreams, slots: StreamSlots): void {
  app.get('/v1/logs', {
    schema: { querystring: { type: 'object', properties: { level: { type: 'string', enum: [...MONITOR_LEVELS] } } } },
  }, async (req, reply) => {
    if (tap == null) return await reply.status(501).send({ error: { code: 'NO_LOG_TAP', message: 'this daemon was started without a log tap' } })
    const level = ((req.query as { level?: Level }).level ?? 'info')
    // one of the daemon's maxStreams slots (503 TOO_MANY_STREAMS when none is free), given back when the stream ends
    const release = slots.take()
    let unsubscribe = (): void => {}
    const s = streams.start(reply, { onEnd: () => { unsubscribe(); release() } })
    s.send('ready', { level })
    // a slow monitor must not grow our memory: lines it cannot take are counted and dropped
    let dropped = 0
    unsubscribe = tap.subscribe(level, line => {
      if (reply.raw.writableLength > 1024 * 1024) { dropped++; return }
      if (dropped > 0) { s.send('dropped', { lines: dropped }); dropped = 0 }
      s.send('log', line)
    })
  })
}
