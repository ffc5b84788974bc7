// GET /v1/topics, PUT and DELETE /v1/topics/:topic: which topics the node keeps.
import type { MembershipResult, TopicsResult } from '../../../wire/results.js'
import { requireTopic, topicOf, topicParams, type ApiContext } from '../context.js'
import { topicsJson } from '../to-wire.js'
import type { ApiApp } from '../context.js'

export function topicRoutes (app: ApiApp, ctx: ApiContext): void {
  const { node } = ctx
  app.get('/v1/topics', async (): Promise<TopicsResult> => ({ topics: topicsJson(node.topics()) }))

  app.put('/v1/topics/:topic', { schema: { params: topicParams } }, async (req): Promise<MembershipResult> => {
    const topic = topicOf(req)
    node.join(topic)
    return { topic, joined: true }
  })

  app.delete('/v1/topics/:topic', {
    schema: { params: topicParams, querystring: { type: 'object', properties: { purge: { type: 'string', enum: ['true', 'false', '1', '0'] } } } },
  }, async (req): Promise<MembershipResult> => {
    const topic = topicOf(req)
    requireTopic(node, topic)
    const purge = (req.query as { purge?: string }).purge
    node.leave(topic, purge === 'true' || purge === '1')
    return { topic, joined: false }
  })
}
