// The rows the store keeps and hands out. It stores each message's encoded envelope as given and reads
// fields back from it only through a RowCodec, so it never depends on the envelope format itself.

export interface StoredMessage {
  /** position in this node's local log; increases in arrival order */
  offset: number
  topic: string
  origin: string
  seq: number
  ts: number
  payload: Uint8Array
}

export interface NewMessage {
  topic: string
  origin: string
  seq: number
  ts: number
  payload: Uint8Array
  /** the encoded, signed envelope, kept so any peer can relay it unchanged */
  raw: Uint8Array
  /** published by this node: its seq and prev came from reservePublish(); hash is its body hash */
  own?: { prev: Uint8Array | null, hash: Uint8Array, msgId?: string }
}

/** Reads what the store needs out of a stored envelope (the core layer supplies it). */
export interface RowCodec {
  payload (raw: Uint8Array): Uint8Array
  /** the hash the next message of the same origin and topic links to */
  bodyHash (raw: Uint8Array): Uint8Array
}

export interface MessageRow { id: number, topic: string, origin: string, seq: number, ts: number, raw: Uint8Array }

// the payload lives only inside the stored envelope, so it is on disk once
export function toMessage (r: MessageRow, codec: RowCodec): StoredMessage {
  return { offset: r.id, topic: r.topic, origin: r.origin, seq: r.seq, ts: r.ts, payload: codec.payload(r.raw) }
}
