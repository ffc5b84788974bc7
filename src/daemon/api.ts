// The control API: HTTP/JSON for local clients (the CLI, the REPL, scripts). Loopback only by default,
// a bearer token on every call, and Host/Origin checks against DNS rebinding. Nothing a client sends may
// take the daemon down: every error becomes a JSON {error: {code, message}} with a fitting status.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { timingSafeEqual, randomBytes } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import type { Logger } from 'pino'
import type { GossipNode } from '../core/node.js'
import type { Consumer, StartFrom } from '../core/consumer.js'
import { checkTopic, InvalidInputError, MAX_PAYLOAD_BYTES } from '../core/limits.js'
import { envelopeId } from '../core/envelope.js'
import { StoreError, type StoredMessage } from '../store/store.js'
import type { MessageJson } from '../client/client.js'

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
  /** extra fields for GET /v1/status */
  statusExtra?: () => Record<string, unknown>
}

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) { super(message) }
}

export function generateToken (): string {
  return randomBytes(32).toString('base64url')
}

/** Body limit: a base64-encoded maximal payload in a JSON body, plus room for the envelope of the request. */
export function bodyLimitFor (maxPayloadBytes: number): number {
  return Math.ceil(maxPayloadBytes / 3) * 4 + 64 * 1024
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function messageJson (m: StoredMessage, encoding?: 'utf8' | 'base64'): MessageJson {
  let payload: string | undefined
  let enc: 'utf8' | 'base64' = 'base64'
  if (encoding !== 'base64') {
    try { payload = utf8.decode(m.payload); enc = 'utf8' } catch { payload = undefined }
  }
  payload ??= Buffer.from(m.payload).toString('base64')
  return { id: envelopeId(m), offset: m.offset, topic: m.topic, origin: m.origin, seq: m.seq, ts: m.ts, time: new Date(m.ts).toISOString(), payload, encoding: enc }
}

/** ?from= values: beginning | now | offset:N | time:ISO-or-epoch-ms */
export function parseFrom (v: string | undefined): StartFrom | undefined {
  if (v == null || v === '') return undefined
  if (v === 'beginning' || v === 'now') return v
  const m = /^(offset|time):(.+)$/.exec(v)
  if (m != null && m[1] === 'offset' && /^\d+$/.test(m[2])) return { offset: Number(m[2]) }
  if (m != null && m[1] === 'time') {
    const t = /^\d+$/.test(m[2]) ? Number(m[2]) : Date.parse(m[2])
    if (Number.isFinite(t)) return { time: t }
  }
  throw new ApiError(400, 'BAD_FROM', `invalid from ${JSON.stringify(v)}: use beginning, now, offset:N or time:ISO-8601-or-epoch-ms`)
}

function loopbackHosts (): Set<string> {
  const s = new Set(['127.0.0.1', 'localhost', '::1'])
  return s
}

function allInterfaceHosts (): Set<string> {
  const s = loopbackHosts()
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) s.add(i.address)
  return s
}

/** "host:port" or "[v6]:port" -> {host, port} (lower-cased host, no brackets) */
function splitHostHeader (h: string): { host: string, port: string } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(h.trim().toLowerCase())
  if (m == null) return null
  return { host: m[1] ?? m[2], port: m[3] ?? '80' }
}

const topicParams = {
  type: 'object',
  properties: { topic: { type: 'string' } },
  required: ['topic'],
} as const

export async function createApi (opts: ApiOptions): Promise<{ app: FastifyInstance<any, any, any, any>, url: string, close: () => Promise<void> }> {
  const { node, token } = opts
  const maxPayload = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES
  const publishWaitMs = opts.publishWaitMs ?? 10_000
  const heartbeatMs = opts.heartbeatMs ?? 15_000
  const tokenBytes = Buffer.from(token)
  const streams = new Set<{ end: () => void }>()
  const openConsumers = new Map<string, Consumer>()
  let closing = false
  /** aborted when the API closes: publishes still waiting for the store give up at once */
  const closed = new AbortController()
  let boundPort = ''
  let allowedHosts = loopbackHosts()
  const requireTopic = (topic: string): void => {
    if (!node.topics().some(t => t.topic === topic)) throw new ApiError(404, 'NO_SUCH_TOPIC', `not subscribed to ${topic}`)
  }

  const app = Fastify({
    // fastify's own per-request logs are info-level noise: keep its warnings and errors, log requests at debug below
    loggerInstance: opts.logger?.child({}, { level: opts.logger.isLevelEnabled('warn') ? 'warn' : opts.logger.level }),
    bodyLimit: bodyLimitFor(maxPayload),
    forceCloseConnections: true,
    return503OnClosing: true,
    // no type coercion: {"payload": 5} is a client bug, not the string "5" (query numbers are parsed below)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  })

  // raw request bodies (anything that is not JSON) are the payload itself
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.addHook('onRequest', async (req: FastifyRequest) => {
    // DNS rebinding: a browser tricked into calling us sends a foreign Host; a web page sends its Origin
    const host = splitHostHeader(req.headers.host ?? '')
    if (host == null || !allowedHosts.has(host.host) || host.port !== boundPort) {
      throw new ApiError(403, 'FORBIDDEN_HOST', `Host ${JSON.stringify(req.headers.host ?? '')} is not this daemon's address; only loopback clients are served`)
    }
    const origin = req.headers.origin
    if (origin != null) {
      let ok = false
      try {
        const u = new URL(origin)
        const o = splitHostHeader(u.host)
        ok = u.protocol === 'http:' && o != null && allowedHosts.has(o.host) && o.port === boundPort
      } catch { ok = false }
      if (!ok) throw new ApiError(403, 'FORBIDDEN_ORIGIN', `requests from origin ${JSON.stringify(origin)} are refused`)
    }
    const auth = req.headers.authorization ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(auth)
    const given = Buffer.from(m?.[1] ?? '')
    if (m == null || given.length !== tokenBytes.length || !timingSafeEqual(given, tokenBytes)) {
      throw new ApiError(401, 'UNAUTHORIZED', m == null ? 'missing bearer token (Authorization: Bearer <token from api.json>)' : 'wrong token')
    }
  })

  app.addHook('onResponse', async (req, reply) => {
    opts.logger?.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request')
  })

  app.setErrorHandler(async (err: any, req, reply) => {
    let status = 500
    let code = 'INTERNAL'
    let message = 'internal error'
    if (err instanceof ApiError) {
      status = err.status; code = err.code; message = err.message
      for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v)
    } else if (err instanceof InvalidInputError) {
      status = err.code === 'PAYLOAD_TOO_LARGE' ? 413 : err.code === 'CONSUMER_BUSY' ? 409 : 400
      code = err.code; message = err.message
    } else if (err instanceof StoreError) {
      status = 503; code = err.code; message = err.message
    } else if (err.validation != null) {
      status = 400; code = 'BAD_REQUEST'; message = err.message
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413; code = 'BODY_TOO_LARGE'; message = `request body is larger than ${bodyLimitFor(maxPayload)} bytes (payload limit ${maxPayload} bytes)`
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode
      code = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'BAD_JSON' : String(err.code ?? 'BAD_REQUEST').replace(/^FST_ERR_(CTP_)?/, '')
      message = err.message
    } else if (err.message === 'node is not running' || closing) {
      status = 503; code = 'SHUTTING_DOWN'; message = 'the daemon is shutting down'
    } else {
      req.log.error({ err }, 'api handler failed')
    }
    if (status === 503 && reply.getHeader('retry-after') == null) void reply.header('retry-after', '1')
    return await reply.status(status).send({ error: { code, message } })
  })

  app.setNotFoundHandler(async (req, reply) => {
    return await reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` } })
  })

  const topicOf = (req: FastifyRequest): string => checkTopic((req.params as { topic: string }).topic)

  app.get('/v1/status', async () => ({ ...node.status(), ...opts.statusExtra?.() }))
  app.get('/v1/peers', async () => ({ peers: node.peers() }))
  app.get('/v1/topics', async () => ({ topics: node.topics() }))

  app.put('/v1/topics/:topic', { schema: { params: topicParams } }, async (req) => {
    const topic = topicOf(req)
    node.join(topic)
    return { topic, joined: true }
  })

  app.delete('/v1/topics/:topic', {
    schema: { params: topicParams, querystring: { type: 'object', properties: { purge: { type: 'string', enum: ['true', 'false', '1', '0'] } } } },
  }, async (req) => {
    const topic = topicOf(req)
    requireTopic(topic)
    const purge = (req.query as { purge?: string }).purge
    node.leave(topic, purge === 'true' || purge === '1')
    return { topic, joined: false }
  })

  app.post('/v1/topics/:topic/messages', {
    schema: {
      params: topicParams,
      body: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { payload: { type: 'string' }, encoding: { type: 'string', enum: ['utf8', 'base64'] } },
              required: ['payload'],
              additionalProperties: false,
            },
          },
        },
      },
    },
  }, async (req, reply) => {
    const topic = topicOf(req)
    let bytes: Uint8Array
    if (Buffer.isBuffer(req.body)) {
      bytes = req.body
    } else if (typeof req.body === 'string') {
      bytes = Buffer.from(req.body, 'utf8')
    } else if (req.body != null && typeof req.body === 'object') {
      const b = req.body as { payload: string, encoding?: 'utf8' | 'base64' }
      if (b.encoding === 'base64') {
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b.payload)) throw new ApiError(400, 'BAD_PAYLOAD', 'payload is not valid base64')
        bytes = Buffer.from(b.payload, 'base64')
      } else {
        bytes = Buffer.from(b.payload, 'utf8')
      }
    } else {
      bytes = Buffer.alloc(0)
    }
    if (bytes.byteLength > maxPayload) throw new InvalidInputError(`payload is ${bytes.byteLength} bytes; the limit is ${maxPayload}`, 'PAYLOAD_TOO_LARGE')
    // backpressure: the node's publish waits while the store is behind; past a bounded wait (or when the
    // API closes) it fails with BUSY, which the error handler answers with 503 and retry-after
    const r = await node.publish(topic, bytes, { signal: AbortSignal.any([AbortSignal.timeout(publishWaitMs), closed.signal]) })
    return await reply.status(201).send(r)
  })

  app.get('/v1/topics/:topic/messages', {
    schema: {
      params: topicParams,
      querystring: {
        type: 'object',
        properties: {
          after: { type: 'string', pattern: '^[0-9]{1,15}$' },
          limit: { type: 'string', pattern: '^0*([1-9][0-9]{0,3}|10000)$' },
          encoding: { type: 'string', enum: ['utf8', 'base64'] },
        },
      },
    },
  }, async (req) => {
    const topic = topicOf(req)
    const q = req.query as { after?: string, limit?: string, encoding?: 'utf8' | 'base64' }
    const rows = node.history(topic, { afterOffset: q.after != null ? Number(q.after) : undefined, limit: q.limit != null ? Number(q.limit) : 100 })
    return { topic, messages: rows.map(m => messageJson(m, q.encoding)) }
  })

  app.get('/v1/topics/:topic/stream', {
    schema: {
      params: topicParams,
      querystring: {
        type: 'object',
        properties: {
          from: { type: 'string' },
          consumer: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          encoding: { type: 'string', enum: ['utf8', 'base64'] },
        },
      },
    },
  }, async (req, reply) => {
    const topic = topicOf(req)
    const q = req.query as { from?: string, consumer?: string, encoding?: 'utf8' | 'base64' }
    let from = parseFrom(q.from)
    const lastId = req.headers['last-event-id']
    if (q.consumer == null && typeof lastId === 'string' && /^\d+$/.test(lastId)) from = { offset: Number(lastId) + 1 }
    const key = `${topic}\0${q.consumer ?? ''}`
    if (q.consumer != null && openConsumers.has(key)) throw new ApiError(409, 'CONSUMER_BUSY', `consumer ${q.consumer} is already streaming ${topic}`)
    const consumer = node.consume(topic, { name: q.consumer, from })
    if (q.consumer != null) openConsumers.set(key, consumer)

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    let ended = false
    let wake: (() => void) | undefined
    const end = (): void => {
      if (ended) return
      ended = true
      clearInterval(heartbeat)
      consumer.close()
      if (openConsumers.get(key) === consumer) openConsumers.delete(key)
      streams.delete(handle)
      wake?.()
      if (!res.writableEnded) res.end()
    }
    const handle = { end }
    streams.add(handle)
    const heartbeat = setInterval(() => { if (!ended) res.write(': ping\n\n') }, heartbeatMs)
    heartbeat.unref()
    // 'close' on the response also fires when the client's socket goes away
    res.on('close', end)
    res.on('error', end)
    consumer.on('gap', gap => { if (!ended) res.write(`event: gap\ndata: ${JSON.stringify(gap)}\n\n`) })
    res.write(`event: ready\ndata: ${JSON.stringify({ topic, consumer: q.consumer ?? null })}\n\n`)
    consumer.start()
    void (async () => {
      try {
        for await (const m of consumer) {
          if (ended) break
          const ok = res.write(`id: ${m.offset}\nevent: message\ndata: ${JSON.stringify(messageJson(m, q.encoding))}\n\n`)
          if (!ok && !ended) {
            await new Promise<void>(resolve => { wake = resolve; res.once('drain', resolve) })
            wake = undefined
          }
        }
      } catch (err) {
        opts.logger?.warn({ err, topic }, 'stream failed')
      } finally {
        end()
      }
    })()
  })

  app.post('/v1/topics/:topic/consumers/:name/ack', {
    schema: {
      params: { type: 'object', properties: { topic: { type: 'string' }, name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } }, required: ['topic', 'name'] },
      body: {
        type: 'object',
        properties: { origin: { type: 'string', minLength: 1, maxLength: 128 }, seq: { type: 'integer', minimum: 1 } },
        required: ['origin', 'seq'],
        additionalProperties: false,
      },
    },
  }, async (req) => {
    const topic = topicOf(req)
    const { name } = req.params as { name: string }
    const { origin, seq } = req.body as { origin: string, seq: number }
    const open = openConsumers.get(`${topic}\0${name}`)
    if (open != null && !open.isClosed) {
      await open.ack({ origin, seq }) // answered once the cursor is on disk
    } else {
      requireTopic(topic)
      // no stream open for it: record the ack (up to what this node holds) through a short-lived consumer
      const c = node.consume(topic, { name })
      try { await c.ackHeld({ origin, seq }) } finally { c.close() }
    }
    return { topic, consumer: name, origin, seq, acked: true }
  })

  app.addHook('preClose', async () => {
    closing = true
    closed.abort()
    for (const s of [...streams]) s.end()
  })

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  const addr = app.server.address()
  if (addr == null || typeof addr === 'string') throw new Error('API server has no TCP address')
  boundPort = String(addr.port)
  const boundHost = addr.address
  if (boundHost === '0.0.0.0' || boundHost === '::') allowedHosts = allInterfaceHosts()
  else allowedHosts.add(boundHost.toLowerCase())
  const urlHost = boundHost === '0.0.0.0' ? '127.0.0.1' : boundHost === '::' ? '[::1]' : boundHost.includes(':') ? `[${boundHost}]` : boundHost
  const url = `http://${urlHost}:${addr.port}`
  return {
    app,
    url,
    close: async () => {
      closing = true
      await app.close()
    },
  }
}
