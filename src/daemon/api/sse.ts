// Server-Sent Events: a consumer's messages on a hijacked response, with keep-alive comments, gap events
// and write backpressure, until the client goes away, the consumer ends or the API closes.
import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Consumer } from '../../core/consumer.js'
import type { PayloadEncoding } from '../../wire/message.js'
import type { StreamReady } from '../../wire/results.js'
import { gapJson, messageJson } from './to-wire.js'

export function sseEvent (event: string, data: unknown, id?: number): string {
  return `${id != null ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export interface SseOptions {
  ready: StreamReady
  encoding?: PayloadEncoding
  heartbeatMs: number
  logger?: Logger
  /** called once when the stream ends, after the consumer is closed */
  onEnd: () => void
}

/** Starts the consumer and streams it to `res`; end() stops both. */
export function serveConsumer (res: ServerResponse, consumer: Consumer, opts: SseOptions): { end: () => void } {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
  let ended = false
  let wake: (() => void) | undefined
  const end = (): void => {
    if (ended) return
    ended = true
    clearInterval(heartbeat)
    consumer.close()
    opts.onEnd()
    wake?.()
    if (!res.writableEnded) res.end()
  }
  const heartbeat = setInterval(() => { if (!ended) res.write(': ping\n\n') }, opts.heartbeatMs)
  heartbeat.unref()
  // 'close' on the response also fires when the client's socket goes away
  res.on('close', end)
  res.on('error', end)
  consumer.on('gap', gap => { if (!ended) res.write(sseEvent('gap', gapJson(gap))) })
  res.write(sseEvent('ready', opts.ready, consumer.startsAfter))
  consumer.start()
  void (async () => {
    try {
      for await (const m of consumer) {
        if (ended) break
        const ok = res.write(sseEvent('message', messageJson(m, opts.encoding), m.offset))
        if (!ok && !ended) {
          await new Promise<void>(resolve => { wake = resolve; res.once('drain', resolve) })
          wake = undefined
        }
      }
    } catch (err) {
      opts.logger?.warn({ err, topic: opts.ready.topic }, 'stream failed')
    } finally {
      end()
    }
  })()
  return { end }
}
