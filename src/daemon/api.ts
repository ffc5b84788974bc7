// The control API: HTTP/JSON for local clients (the CLI, the REPL, scripts). Loopback only by default,
// a bearer token on every call, and Host/Origin checks against DNS rebinding. This file puts the parts
// in src/daemon/api/ together: auth, error mapping, request bodies, the route groups, SSE.
import { setMaxListeners } from 'node:events'
import Fastify from 'fastify'
import type { Logger } from 'pino'
import type { GossipNode } from '../core/node.js'
import type { Consumer } from '../core/consumer.js'
import { MAX_PAYLOAD_BYTES } from '../core/limits.js'
import type { StatusExtra } from '../wire/results.js'
import { RequestGuard } from './api/auth.js'
import { listenUnix } from './api/unix-socket.js'
import { StreamSlots } from './api/stream-slots.js'
import { acceptRawBodies, bodyLimitFor } from './api/body.js'
import type { ApiContext } from './api/context.js'
import { clientErrorHandler, errorHandler, frameworkErrorHandler, notFoundHandler } from './api/errors.js'
import { messageRoutes } from './api/routes/messages.js'
import { statusRoutes } from './api/routes/status.js'
import { streamRoutes } from './api/routes/streams.js'
import { topicRoutes } from './api/routes/topics.js'
import type { ApiApp } from './api/context.js'
import { registerObservability, type Observability } from './observe/index.js'

export interface ApiOptions {
  node: GossipNode
  token: string
  host?: string
  port?: number
  logger?: Logger
  maxPayloadBytes?: number
  /** how long publish waits for the store to catch up before answering 503 (default 10 s) */
  publishWaitMs?: number
  /** SSE keep-alive comment period (default 15 s) */
  heartbeatMs?: number
  /** open long-lived streams allowed at once (default 256), topic streams, /v1/logs and /ui/events together: a topic stream may hold a consumer buffer of up to 8 MiB */
  maxStreams?: number
  /** also serve the API on this unix socket (mode 0600) */
  socketPath?: string
  /** extra fields for GET /v1/status */
  statusExtra?: () => StatusExtra
  /** metrics, health, swarm page and log routes (observe/index.ts) */
  observe?: Observability
}

export interface Api { app: ApiApp, url: string, close: () => Promise<void> }

export async function createApi (opts: ApiOptions): Promise<Api> {
  const maxPayload = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES
  const closed = new AbortController()
  // every publish waiting for a behind store listens on it (core/deadline.ts): many at once is normal, not a leak
  setMaxListeners(Infinity, closed.signal)
  const ctx: ApiContext = {
    node: opts.node,
    logger: opts.logger,
    maxPayload,
    publishWaitMs: opts.publishWaitMs ?? 10_000,
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    slots: new StreamSlots(opts.maxStreams ?? 256),
    statusExtra: opts.statusExtra,
    closed: closed.signal,
    streams: new Set(),
    consumers: new Map<string, Consumer>(),
  }
  let closing = false
  const observe = opts.observe
  const guard = new RequestGuard(opts.token, observe != null ? req => observe.authorize(req) : undefined)

  const app = Fastify({
    // fastify's own per-request logs are info-level noise: keep its warnings and errors, log requests at debug below
    loggerInstance: opts.logger?.child({}, { level: opts.logger.isLevelEnabled('warn') ? 'warn' : opts.logger.level }),
    // and off altogether: a monitor below the daemon's level lowers the logger's (log-tap.ts), and fastify's
    // per-request info lines then leaked into it (the 'onResponse' hook below logs each request at debug)
    disableRequestLogging: true,
    bodyLimit: bodyLimitFor(maxPayload),
    forceCloseConnections: true,
    // a topic is up to 128 characters, each '/' sent as %2F: fastify's default of 100 would answer 414. The
    // bound is above Node's 16 KiB limit on the request line and headers (431 HEADERS_TOO_LARGE, below), so a
    // too-long topic always reaches the route's own check (400 BAD_TOPIC) instead of the router's 414
    routerOptions: { maxParamLength: 64 * 1024 },
    // errors fastify and Node answer before any route: in the documented shape too
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    return503OnClosing: true,
    // Node would answer a request without Host with a bare 400 and no body; the Host check answers 403 FORBIDDEN_HOST
    http: { requireHostHeader: false },
    // no type coercion: {"payload": 5} is a client bug, not the string "5" (query numbers are parsed in the routes)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  })
  acceptRawBodies(app)
  app.addHook('onRequest', async (req) => { guard.check(req) })
  app.addHook('onResponse', async (req, reply) => {
    opts.logger?.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request')
  })
  app.setErrorHandler(errorHandler({ maxPayload, bodyLimit: bodyLimitFor(maxPayload) }, () => closing))
  app.setNotFoundHandler(notFoundHandler)

  statusRoutes(app, ctx)
  topicRoutes(app, ctx)
  messageRoutes(app, ctx)
  streamRoutes(app, ctx)
  if (observe != null) registerObservability(app, observe, ctx.slots, opts.logger)

  app.addHook('preClose', async () => {
    closing = true
    closed.abort()
    for (const s of [...ctx.streams]) s.end()
  })

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  const addr = app.server.address()
  if (addr == null || typeof addr === 'string') throw new Error('API server has no TCP address')
  guard.bind(addr.address, addr.port)
  const h = addr.address
  const closeUnix = opts.socketPath != null ? await listenUnix(app.server, opts.socketPath).catch(async err => { await app.close(); throw err }) : undefined
  const urlHost = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h
  return {
    app,
    url: `http://${urlHost}:${addr.port}`,
    close: async () => {
      closing = true
      await closeUnix?.()
      await app.close()
    },
  }
}
