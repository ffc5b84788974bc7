// What the route groups share: the node, limits, open streams and named consumers, and the topic checks.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { GossipNode } from '../../core/node.js'
import type { Consumer } from '../../core/consumer.js'
import { checkTopic } from '../../core/limits.js'
import type { StatusExtra } from '../../wire/results.js'
import { ApiError } from './errors.js'
import type { StreamSlots } from './stream-slots.js'
import { ERROR_CODES } from '../../wire/errors.js'

/** The API's fastify app. Route modules take any logger/server generics: they use neither. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fastify's generics are invariant; the pino logger type differs from the default
export type ApiApp = FastifyInstance<any, any, any, any>

export interface ApiContext {
  node: GossipNode
  logger?: Logger
  maxPayload: number
  publishWaitMs: number
  heartbeatMs: number
  /** slots for long-lived streams (maxStreams), shared with /v1/logs and /ui/events; past it 503 TOO_MANY_STREAMS */
  slots: StreamSlots
  statusExtra?: () => StatusExtra
  /** aborted when the API closes: publishes still waiting for the store give up at once */
  closed: AbortSignal
  /** open SSE streams, ended when the API closes */
  streams: Set<{ end: () => void }>
  /** named consumers with an open stream, by consumerKey() */
  consumers: Map<string, Consumer>
}

export const consumerKey = (topic: string, name: string): string => `${topic}\0${name}`

export const topicParams = {
  type: 'object',
  properties: { topic: { type: 'string' } },
  required: ['topic'],
} as const

/** The :topic parameter, validated (400 BAD_TOPIC). */
export const topicOf = (req: FastifyRequest): string => checkTopic((req.params as { topic: string }).topic)

/** 404 NO_SUCH_TOPIC unless the node is subscribed to the topic. */
export function requireTopic (node: GossipNode, topic: string): void {
  if (!node.topics().some(t => t.topic === topic)) throw new ApiError(404, ERROR_CODES.NO_SUCH_TOPIC, `not subscribed to ${topic}`)
}
