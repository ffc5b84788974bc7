// Observability for the daemon: Prometheus metrics, health probes, the live swarm page and the log feed.
// The daemon makes one Observability before the node (libp2p's metrics must be given at creation), attaches
// the node once it runs, and the API calls registerObservability(app, obs) to add the routes.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { GossipNode, NodeOptions } from '../../core/node.js'
import { GossipdMetrics } from './metrics.js'
import { metricsRoute } from './metrics-route.js'
import { healthRoutes } from './health.js'
import { LiveView } from './live.js'
import { Sessions } from './sessions.js'
import { SseStreams } from './sse.js'
import { uiRoutes, sessionOf } from './ui.js'
import { logsRoute } from './logs-route.js'
import { logTapOf } from './log-tap.js'
import type { ApiApp } from '../api/context.js'
import type { StreamSlots } from '../api/stream-slots.js'
import { ApiError, clientErrorHandler, errorHandler, frameworkErrorHandler, notFoundHandler } from '../api/errors.js'
import { ERROR_CODES } from '../../wire/errors.js'

export interface ObservabilityOptions {
  version: string
  /** static peers are configured: /readyz waits for one to be connected */
  expectPeers: boolean
  /** a separate listener for /metrics, /healthz and /readyz, for a Prometheus on another host */
  metricsListen?: { host: string, port: number }
  logger?: Logger
}

const PUBLIC = { gossipdPublic: true }

export class Observability {
  readonly metrics: GossipdMetrics
  readonly sessions = new Sessions()
  readonly streams = new SseStreams()
  live?: LiveView
  node?: GossipNode
  private metricsServer?: FastifyInstance
  private readonly sessionRequests = new WeakSet<FastifyRequest>()

  constructor (readonly opts: ObservabilityOptions) {
    this.metrics = new GossipdMetrics({ version: opts.version })
  }

  /** the `metrics` option for GossipNode */
  nodeMetrics (): NonNullable<NodeOptions['metrics']> { return this.metrics.nodeMetrics() }

  attach (node: GossipNode, statusExtra: () => Record<string, unknown> = () => ({})): void {
    this.node = node
    this.metrics.attach(node)
    this.live = new LiveView(node, statusExtra)
  }

  /**
   * Called by the API's auth hook after its Host/Origin checks: true lets the request through without the
   * bearer token (public routes, or a browser with a session cookie). Cookie-authenticated writes must also
   * carry x-gossipd-ui, which no cross-site form can send without a CORS preflight we never grant.
   */
  authorize (req: FastifyRequest): boolean {
    if ((req.routeOptions.config as unknown as Record<string, unknown> | undefined)?.gossipdPublic === true) return true
    const id = sessionOf(req)
    if (id == null || req.headers.authorization != null) return false
    if (!this.sessions.valid(id)) return false
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-gossipd-ui'] !== '1') return false
    this.sessionRequests.add(req)
    return true
  }

  /** true when authorize() let this request in by its session cookie */
  viaSession (req: FastifyRequest): boolean { return this.sessionRequests.has(req) }

  /** open the separate metrics listener, if configured; resolves with its URL */
  async listen (): Promise<string | undefined> {
    const l = this.opts.metricsListen
    if (l == null) return undefined
    const app = Fastify({
      forceCloseConnections: true,
      // GET routes only: no body is ever read
      bodyLimit: 1024,
      // errors in the control API's shape ({"error": {code, message}}), not fastify's or Node's own (a bare
      // 400 with no body for a request without Host)
      frameworkErrors: frameworkErrorHandler,
      clientErrorHandler,
      http: { requireHostHeader: false },
    })
    app.setNotFoundHandler(notFoundHandler)
    // no Host check here (any host may scrape), but HTTP/1.1 requires the header (RFC 9112 3.2): 400, in JSON
    app.addHook('onRequest', async (req) => {
      if (req.headers.host == null && req.raw.httpVersion !== '1.0') throw new ApiError(400, ERROR_CODES.BAD_REQUEST, 'an HTTP/1.1 request must carry a Host header')
    })
    app.setErrorHandler(errorHandler({ maxPayload: 0, bodyLimit: 1024 }, () => false))
    metricsRoute(app, this.metrics, { loopbackOnly: false })
    healthRoutes(app, { node: () => this.node, expectPeers: this.opts.expectPeers })
    await app.listen({ host: l.host, port: l.port })
    this.metricsServer = app
    const a = app.server.address()
    return typeof a === 'object' && a != null ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics` : undefined
  }

  async close (): Promise<void> {
    this.streams.endAll()
    await this.metricsServer?.close()
  }
}

/** Add /metrics, /healthz, /readyz, the swarm page (/ui/...), /v1/logs and /v1/observe/snapshot. */
export function registerObservability (app: ApiApp, obs: Observability, slots: StreamSlots, logger?: Logger): void {
  metricsRoute(app, obs.metrics, { loopbackOnly: true, config: PUBLIC })
  healthRoutes(app, { node: () => obs.node, expectPeers: obs.opts.expectPeers }, PUBLIC)
  uiRoutes(app, { sessions: obs.sessions, live: () => obs.live, streams: obs.streams, slots, publicConfig: PUBLIC, viaSession: req => obs.viaSession(req) })
  logsRoute(app, logTapOf(obs.opts.logger ?? logger), obs.streams, slots)
  app.get('/v1/observe/snapshot', async (_req, reply) => {
    if (obs.live == null) return await reply.status(503).send({ error: { code: 'NOT_READY', message: 'the node is not running' } })
    return obs.live.snapshot()
  })
  app.addHook('onResponse', async (req, reply) => {
    if (req.method === 'POST' && reply.statusCode === 201 && req.routeOptions.url === '/v1/topics/:topic/messages') obs.metrics.apiPublish.observe(reply.elapsedTime / 1000)
  })
  app.addHook('preClose', async () => { obs.streams.endAll() })
}
