// Error -> HTTP: nothing a client sends may take the daemon down; every failure becomes a JSON ErrorBody
// with a fitting status. 503s carry retry-after, but for a failed store, which only a restart mends.
import type { Socket } from 'node:net'
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
  // a Content-Type fastify cannot parse (empty, ";"): any content type is a raw payload, so this is a malformed request
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 400, code: ERROR_CODES.BAD_REQUEST, message: 'malformed Content-Type header' }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // clients branch on the code: only ERROR_CODES, never fastify's own (EMPTY_JSON_BODY was passed on)
    const json = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError
    return { status: err.statusCode, code: json ? ERROR_CODES.BAD_JSON : ERROR_CODES.BAD_REQUEST, message: err.message }
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
    // a failed store (an fsync failed) answers 503 until a restart: a Retry-After would make clients retry for ever
    if (status === 503 && code !== 'FSYNC_FAILED' && reply.getHeader('retry-after') == null) void reply.header('retry-after', '1')
    const body: ErrorBody = { error: { code, message } }
    return await reply.status(status).send(body)
  }
}

export async function notFoundHandler (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body: ErrorBody = { error: { code: ERROR_CODES.NOT_FOUND, message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` } }
  return await reply.status(404).send(body)
}

/**
 * Errors fastify raises before any route runs (fastify's `frameworkErrors`): a malformed percent-encoding
 * (FST_ERR_BAD_URL) and a path parameter over the router's maxParamLength. Without this they would answer
 * in fastify's own shape ({"error": "Bad Request", "code": "FST_ERR_..."}).
 */
export function frameworkErrorHandler (err: AnyError, req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0]
  const known = err.code === 'FST_ERR_BAD_URL'
    ? `malformed URL ${JSON.stringify(path.slice(0, 200))}: bad percent-encoding`
    : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment of the URL is too long' : undefined
  const status = known != null ? 400 : typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500
  const body: ErrorBody = { error: { code: known != null ? ERROR_CODES.BAD_URL : status >= 500 ? ERROR_CODES.INTERNAL : ERROR_CODES.BAD_REQUEST, message: known ?? err.message } }
  void reply.status(status).send(body)
}

/**
 * What Node's HTTP parser refuses before fastify sees a request (fastify's `clientErrorHandler`): garbage,
 * a request line and headers over the header limit, a request that does not arrive in time. Answered in the
 * documented shape, then the connection is closed (as fastify's default handler does).
 */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, text, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'Request Timeout', ERROR_CODES.REQUEST_TIMEOUT, 'the request did not arrive in time']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', ERROR_CODES.HEADERS_TOO_LARGE, 'the request line and headers are over the size limit (16 KiB)']
      : [400, 'Bad Request', ERROR_CODES.BAD_REQUEST, 'malformed HTTP request']
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody)
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  socket.destroy()
}
