// POST and GET /v1/topics/:topic/messages: publish, and read the stored history.
import type { PayloadEncoding } from '../../../wire/message.js'
import type { HistoryResult } from '../../../wire/results.js'
import { msgIdOf, payloadOf, publishBodySchema } from '../body.js'
import { requireTopic, topicOf, topicParams, type ApiContext } from '../context.js'
import { messageJson, publishJson } from '../to-wire.js'
import type { ApiApp } from '../context.js'
import { withDeadline } from '../../../core/deadline.js'

export function messageRoutes (app: ApiApp, ctx: ApiContext): void {
  const { node } = ctx
  app.post('/v1/topics/:topic/messages', {
    schema: { params: topicParams, body: { content: { 'application/json': { schema: publishBodySchema } } } },
  }, async (req, reply) => {
    const topic = topicOf(req)
    const bytes = payloadOf(req.body, ctx.maxPayload)
    const msgId = msgIdOf(req.headers, req.body)
    // backpressure: the node's publish waits while the store is behind; past a bounded wait (or when the
    // API closes) it fails with BUSY, which the error handler answers with 503 and retry-after
    const r = await withDeadline(ctx.publishWaitMs, ctx.closed, async d => await node.publish(topic, bytes, { msgId, signal: d.signal }))
    // a duplicate published nothing now (200, as JetStream's duplicate PubAck); durable: false is still
    // published (201): an error would invite a retry that publishes it twice
    if (r.durable === false) ctx.logger?.error({ topic, seq: r.seq, warning: r.warning }, 'published, but the fsync failed')
    return await reply.status(r.duplicate === true ? 200 : 201).send(publishJson(r))
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
  }, async (req): Promise<HistoryResult> => {
    const topic = topicOf(req)
    const q = req.query as { after?: string, limit?: string, encoding?: PayloadEncoding }
    requireTopic(node, topic)
    const rows = node.history(topic, { afterOffset: q.after != null ? Number(q.after) : undefined, limit: q.limit != null ? Number(q.limit) : 100 })
    return { topic, messages: rows.map(m => messageJson(m, q.encoding)) }
  })
}
