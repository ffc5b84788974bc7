// Server-sent events for the observability routes (swarm page, monitor). Every open stream is tracked so
// the API can end them all when it closes.
import type { FastifyReply } from 'fastify'

export interface SseStream { send: (event: string, data: unknown) => boolean, end: () => void, readonly ended: boolean }

export class SseStreams {
  private readonly open = new Set<SseStream>()

  start (reply: FastifyReply, opts: { heartbeatMs?: number, onEnd?: () => void, headers?: Record<string, string> } = {}): SseStream {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', ...opts.headers })
    let ended = false
    const heartbeat = setInterval(() => { if (!ended) res.write(': ping\n\n') }, opts.heartbeatMs ?? 15_000)
    heartbeat.unref()
    const stream: SseStream = {
      send: (event, data) => ended ? false : res.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`),
      end: () => {
        if (ended) return
        ended = true
        clearInterval(heartbeat)
        this.open.delete(stream)
        opts.onEnd?.()
        if (!res.writableEnded) res.end()
      },
      get ended () { return ended },
    }
    this.open.add(stream)
    res.on('close', stream.end)
    res.on('error', stream.end)
    return stream
  }

  endAll (): void { for (const s of [...this.open]) s.end() }
}
