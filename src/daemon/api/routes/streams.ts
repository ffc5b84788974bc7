// GET /v1/topics/:topic/stream (SSE) and POST .../consumers/:name/ack: live delivery and durable cursors.
import type { Consumer, StartFrom } from '../../../core/consumer.js'
import type { PayloadEncoding } from '../../../wire/message.js'
import { CONSUMER_NAME_PATTERN } from '../../../wire/consumer-name.js'
import type { AckResult } from '../../../wire/results.js'
import { consumerKey, requireTopic, topicOf, topicParams, type ApiContext } from '../context.js'
import { ApiError } from '../errors.js'
import { serveConsumer } from '../sse.js'
import { ERROR_CODES } from '../../../wire/errors.js'
import type { ApiApp } from '../context.js'


/** ?from= values: beginning | now | offset:N | time:ISO-or-epoch-ms */
export function parseFrom (v: string | undefined): StartFrom | undefined {
  if (v == null || v === '') return undefined
  if (v === 'beginning' || v === 'now') return v
  const m = /^(offset|time):(.+)$/.exec(v)
  // only values a number holds exactly (an offset past 2^53 was rounded) and times a Date can hold
  if (m != null && m[1] === 'offset' && /^\d+$/.test(m[2]) && Number.isSafeInteger(Number(m[2]))) return { offset: Number(m[2]) }
  if (m != null && m[1] === 'time') {
    const t = /^\d+$/.test(m[2]) ? Number(m[2]) : Date.parse(m[2])
    if (!Number.isNaN(new Date(t).getTime())) return { time: t }
  }
  throw new ApiError(400, ERROR_CODES.BAD_FROM, `invalid from ${JSON.stringify(v)}: use beginning, now, offset:N or time:ISO-8601-or-epoch-ms`)
}

export function streamRoutes (app: ApiApp, ctx: ApiContext): void {
  const { node, consumers } = ctx
  app.get('/v1/topics/:topic/stream', {
    schema: {
      params: topicParams,
      querystring: {
        type: 'object',
        properties: {
          from: { type: 'string' },
          consumer: { type: 'string', pattern: CONSUMER_NAME_PATTERN },
          encoding: { type: 'string', enum: ['utf8', 'base64'] },
          join: { type: 'string', enum: ['true', 'false'] },
        },
      },
    },
  }, async (req, reply) => {
    // every check first, then the slot, and joining last: a refused request (4xx, 503) changes nothing
    const topic = topicOf(req)
    const q = req.query as { from?: string, consumer?: string, encoding?: PayloadEncoding, join?: string }
    // joining is explicit (?join=true), so a typo in a topic name is a 404 and not a topic kept for good
    if (q.join !== 'true') requireTopic(node, topic)
    let from = parseFrom(q.from)
    const lastId = req.headers['last-event-id']
    if (q.consumer == null && typeof lastId === 'string' && /^\d+$/.test(lastId)) from = { offset: Number(lastId) + 1 }
    const key = consumerKey(topic, q.consumer ?? '')
    if (q.consumer != null && consumers.has(key)) throw new ApiError(409, ERROR_CODES.CONSUMER_BUSY, `consumer ${q.consumer} is already streaming ${topic}`)
    const release = ctx.slots.take()
    let consumer: Consumer
    try {
      if (q.join === 'true') node.join(topic)
      consumer = node.consume(topic, { name: q.consumer, from })
    } catch (err) {
      release()
      throw err
    }
    if (q.consumer != null) consumers.set(key, consumer)

    reply.hijack()
    const stream = serveConsumer(reply.raw, consumer, {
      ready: { topic, consumer: q.consumer ?? null },
      encoding: q.encoding,
      heartbeatMs: ctx.heartbeatMs,
      logger: ctx.logger,
      onEnd: () => {
        if (consumers.get(key) === consumer) consumers.delete(key)
        ctx.streams.delete(stream)
        release()
      },
    })
    ctx.streams.add(stream)
  })

  app.post('/v1/topics/:topic/consumers/:name/ack', {
    schema: {
      params: { type: 'object', properties: { topic: { type: 'string' }, name: { type: 'string', pattern: CONSUMER_NAME_PATTERN } }, required: ['topic', 'name'] },
      body: {
        type: 'object',
        properties: { origin: { type: 'string', minLength: 1, maxLength: 128 }, seq: { type: 'integer', minimum: 1 } },
        required: ['origin', 'seq'],
        additionalProperties: false,
      },
    },
  }, async (req): Promise<AckResult> => {
    const topic = topicOf(req)
    const { name } = req.params as { name: string }
    const { origin, seq } = req.body as { origin: string, seq: number }
    const open = consumers.get(consumerKey(topic, name))
    if (open != null && !open.isClosed) {
      await open.ack({ origin, seq }) // answered once the cursor is on disk
    } else {
      requireTopic(node, topic)
      // no stream open for it: record the ack (up to what this node holds) through a short-lived consumer
      const c = node.consume(topic, { name })
      try { await c.ackHeld({ origin, seq }) } finally { c.close() }
    }
    return { topic, consumer: name, origin, seq, acked: true }
  })
}
