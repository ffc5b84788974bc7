// Every failed API call answers with this body; `code` is one of ERROR_CODES (clients branch on it).
export interface ErrorBody { error: { code: string, message: string } }

export const ERROR_CODES = {
  /** 401: no or wrong bearer token */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** 403: Host header is not the daemon's address (DNS rebinding) */
  FORBIDDEN_HOST: 'FORBIDDEN_HOST',
  /** 403: a web page's Origin */
  FORBIDDEN_ORIGIN: 'FORBIDDEN_ORIGIN',
  /** 404: unknown endpoint */
  NOT_FOUND: 'NOT_FOUND',
  /** 404: the daemon is not subscribed to the topic */
  NO_SUCH_TOPIC: 'NO_SUCH_TOPIC',
  /** 400: request failed schema validation */
  BAD_REQUEST: 'BAD_REQUEST',
  /** 400: body is not valid JSON */
  BAD_JSON: 'BAD_JSON',
  /** 400: the URL is malformed (bad percent-encoding) */
  BAD_URL: 'BAD_URL',
  /** 408: the request did not arrive in time */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** 431: request line and headers over Node's limit (16 KiB by default) */
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  /** 400: invalid topic name */
  BAD_TOPIC: 'BAD_TOPIC',
  /** 400: payload is not valid base64 (or not bytes) */
  BAD_PAYLOAD: 'BAD_PAYLOAD',
  /** 400: invalid idempotency key (Idempotency-Key / Gossipd-Msg-Id header or msgId field) */
  BAD_MSG_ID: 'BAD_MSG_ID',
  /** 400: invalid ?from= */
  BAD_FROM: 'BAD_FROM',
  /** 400: this node is not on the topic's publisher allowlist */
  PUBLISHER_NOT_ALLOWED: 'PUBLISHER_NOT_ALLOWED',
  /** 409: the named consumer is already streaming */
  CONSUMER_BUSY: 'CONSUMER_BUSY',
  /** 413: payload over the daemon's limit */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** 413: request body over the body limit */
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  /** 503: the store is behind; retry (retry-after is set) */
  BUSY: 'BUSY',
  /** 503: the daemon already serves its maximum number of streams; retry later or close one */
  TOO_MANY_STREAMS: 'TOO_MANY_STREAMS',
  /** 503: the daemon is stopping */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** 500: a bug; the daemon logs it */
  INTERNAL: 'INTERNAL',
} as const

export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES]
