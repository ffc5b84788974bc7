// A stored message as the API sends it (history, SSE streams): payload as UTF-8 text when it is valid
// UTF-8, otherwise (or when asked) base64.
export type PayloadEncoding = 'utf8' | 'base64'

export interface MessageJson {
  id: string
  offset: number
  topic: string
  origin: string
  seq: number
  ts: number
  time: string
  payload: string
  encoding: PayloadEncoding
}

/** The fields of a stored message the JSON form is made from. */
export interface MessageFields { offset: number, topic: string, origin: string, seq: number, ts: number, payload: Uint8Array }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** ISO-8601 of a ms timestamp; never throws (a stored row is rendered whatever it holds) */
export function isoTime (ts: number): string {
  const d = new Date(ts)
  return Number.isNaN(d.getTime()) ? 'invalid-time' : d.toISOString()
}

/** `id` is the envelope id, which the caller computes (wire knows no envelopes). */
export function toMessageJson (m: MessageFields, id: string, encoding?: PayloadEncoding): MessageJson {
  let payload: string | undefined
  let enc: PayloadEncoding = 'base64'
  if (encoding !== 'base64') {
    try { payload = utf8.decode(m.payload); enc = 'utf8' } catch { payload = undefined }
  }
  payload ??= Buffer.from(m.payload).toString('base64')
  return { id, offset: m.offset, topic: m.topic, origin: m.origin, seq: m.seq, ts: m.ts, time: isoTime(m.ts), payload, encoding: enc }
}

export function decodePayload (m: Pick<MessageJson, 'payload' | 'encoding'>): Uint8Array {
  return m.encoding === 'base64' ? new Uint8Array(Buffer.from(m.payload, 'base64')) : new TextEncoder().encode(m.payload)
}
