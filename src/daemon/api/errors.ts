// Error -> HTTP: nothing a client sends may take the daemon down; every failure becomes a JSON ErrorBody
// with a fitting status. 503s carry retry-after.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidInputError } from '../../core/limits.js'
import { StoreError } from '../../store/store.js'
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '../../wire/errors.js'

/** An error the API raises itself, with its status, code and extra headers. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: ErrorCode, message: string, readonly headers: Record<string, string> = {}) { super(message) }
}

interface Mapped { status: number, code: string, message: string }

export interface ErrorLimits { maxPayload: number, bodyLimit: number }

/** what fastify and Node errors may carry */
type AnyError = Error & { validation?: unknown, code?: string, statusCode?: number }

function map (err: AnyError, limits: ErrorLimits, closing: boolean): Mapped | undefined {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message }
  if (err instanceof InvalidInputError) {
    return { status: err.code === ERROR_CODES.PAYLOAD_TOO_LARGE ? 413 : err.code === ERROR_CODES.CONSUMER_BUSY ? 409 : 400, code: err.code, message: err.message }
  }
  if (err instanceof StoreError) return { status: 503, code: err.code, message: err.message }
  if (err.validation != null) return { status: 400, code: ERROR_CODES.BAD_REQUEST, message: err.message }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: ERROR_CODES.BODY_TOO_LARGE, message: `request body is larger than ${limits.bodyLimit} bytes (payload limit ${limits.maxPayload} bytes)` }
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    const code = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? ERROR_CODES.BAD_JSON : String(err.code ?? ERROR_CODES.BAD_REQUEST).replace(/^FST_ERR_(CTP_)?/, '')
    return { status: err.statusCode, code, message: err.message }
  }
  if (err.message === 'node is not running' || closing) return { status: 503, code: ERROR_CODES.SHUTTING_DOWN, message: 'the daemon is shutting down' }
  return undefined
}

/** Fastify error handler; `closing` tells whether the API is shutting down. */
export function errorHandler (limits: ErrorLimits, closing: () => boolean) {
  return async (err: AnyError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const m = map(err, limits, closing())
    if (m == null) req.log.error({ err }, 'api handler failed')
    const { status, code, message } = m ?? { status: 500, code: ERROR_CODES.INTERNAL, message: 'internal error' }
    if (err instanceof ApiError) for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v)
    if (status === 503 && reply.getHeader('retry-after') == null) void reply.header('retry-after', '1')
    const body: ErrorBody = { error: { code, message } }
    return await reply.status(status).send(body)
  }
}

export async function notFoundHandler (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body: ErrorBody = { error: { code: ERROR_CODES.NOT_FOUND, message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` } }
  return await reply.status(404).send(body)
}
