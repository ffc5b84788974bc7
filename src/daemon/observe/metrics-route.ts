// GET /metrics. On the control API it answers loopback and unix-socket clients only (a Prometheus elsewhere scrapes the
// separate `metrics` listener instead, which the operator opens deliberately).
import type { FastifyRequest } from 'fastify'
import type { GossipdMetrics } from './metrics.js'
import type { ApiApp } from '../api/context.js'
import { viaUnixSocket } from '../api/unix-socket.js'

export function isLoopback (addr: string | undefined): boolean {
  if (addr == null) return false
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr
  return a === '::1' || /^127\./.test(a)
}

export function metricsRoute (app: ApiApp, metrics: GossipdMetrics, opts: { loopbackOnly: boolean, config?: Record<string, unknown> }): void {
  app.get('/metrics', { config: opts.config ?? {} }, async (req: FastifyRequest, reply) => {
    // the unix socket (0600) is this host's too: its clients have no address to check
    if (opts.loopbackOnly && !isLoopback(req.socket.remoteAddress) && !viaUnixSocket(req.raw.socket)) {
      return await reply.status(403).send({ error: { code: 'FORBIDDEN_REMOTE', message: 'metrics are served to loopback clients only; set the metrics option (--metrics HOST:PORT) to open a listener for a remote Prometheus' } })
    }
    const { body, contentType } = await metrics.text()
    return await reply.header('content-type', contentType).header('cache-control', 'no-store').send(body)
  })
}
