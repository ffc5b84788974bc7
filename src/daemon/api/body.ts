// Request bodies of publish: raw bytes (any non-JSON content type) or JSON {payload, encoding}.
import { InvalidInputError } from '../../core/limits.js'
import type { PayloadEncoding } from '../../wire/message.js'
import { BASE64_RULE, decodeBase64 } from '../../wire/base64.js'
import { ApiError } from './errors.js'
import { ERROR_CODES } from '../../wire/errors.js'
import type { ApiApp } from './context.js'

/** Body limit: a base64-encoded maximal payload in a JSON body, plus room for the envelope of the request. */
export function bodyLimitFor (maxPayloadBytes: number): number {
  return Math.ceil(maxPayloadBytes / 3) * 4 + 64 * 1024
}

/** Raw request bodies (anything that is not JSON) are the payload itself. */
export function acceptRawBodies (app: ApiApp): void {
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
}

/** The JSON body of publish, as its schema admits it. */
export const publishBodySchema = {
  type: 'object',
  properties: { payload: { type: 'string' }, encoding: { type: 'string', enum: ['utf8', 'base64'] }, msgId: { type: 'string' } },
  required: ['payload'],
  additionalProperties: false,
} as const

/**
 * The idempotency key of a publish: header Idempotency-Key or Gossipd-Msg-Id, or the JSON body's msgId
 * (checked by the node: 400 BAD_MSG_ID). Two different keys in one request are refused.
 */
export function msgIdOf (headers: Record<string, string | string[] | undefined>, body: unknown): string | undefined {
  const found = new Set<string>()
  for (const h of ['idempotency-key', 'gossipd-msg-id']) {
    const v = headers[h]
    if (Array.isArray(v)) v.forEach(x => found.add(x))
    else if (typeof v === 'string') found.add(v)
  }
  if (body != null && typeof body === 'object' && !Buffer.isBuffer(body) && typeof (body as { msgId?: unknown }).msgId === 'string') found.add((body as { msgId: string }).msgId)
  if (found.size > 1) throw new ApiError(400, ERROR_CODES.BAD_MSG_ID, `conflicting idempotency keys: ${[...found].map(k => JSON.stringify(k)).join(', ')}`)
  return found.values().next().value
}

/** The payload bytes a publish request carries, at most maxPayload of them. */
export function payloadOf (body: unknown, maxPayload: number): Uint8Array {
  let bytes: Uint8Array
  if (Buffer.isBuffer(body)) {
    bytes = body
  } else if (typeof body === 'string') {
    bytes = Buffer.from(body, 'utf8')
  } else if (body != null && typeof body === 'object') {
    const b = body as { payload: string, encoding?: PayloadEncoding }
    if (b.encoding === 'base64') {
      const decoded = decodeBase64(b.payload)
      if (decoded == null) throw new ApiError(400, ERROR_CODES.BAD_PAYLOAD, `payload is not valid base64 (${BASE64_RULE}; base64url is not accepted)`)
      bytes = decoded
    } else {
      // UTF-8 cannot carry a lone surrogate: Buffer.from would store U+FFFD in its place, silently another payload
      if (!b.payload.isWellFormed()) throw new ApiError(400, ERROR_CODES.BAD_PAYLOAD, 'payload is not well-formed Unicode text (a lone UTF-16 surrogate); send bytes with "encoding": "base64"')
      bytes = Buffer.from(b.payload, 'utf8')
    }
  } else {
    bytes = Buffer.alloc(0)
  }
  if (bytes.byteLength > maxPayload) throw new InvalidInputError(`payload is ${bytes.byteLength} bytes; the limit is ${maxPayload}`, ERROR_CODES.PAYLOAD_TOO_LARGE)
  return bytes
}
