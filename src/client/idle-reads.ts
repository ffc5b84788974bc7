// Reading a daemon's stream (SSE) with a deadline per read. The daemon writes a heartbeat every 15 s on
// every stream, so a read that waits much longer means a frozen daemon or a connection that died without
// a word (its host lost power): without a deadline `sub`, `monitor` and library streams waited forever.

/** three of the daemon's 15 s heartbeats */
export const DEFAULT_STREAM_IDLE_MS = 45_000
/** the longest delay setTimeout takes (2^31 - 1 ms) */
const MAX_TIMER_MS = 2 ** 31

/**
 * The body's chunks. A read that waits more than `idleMs` cancels the body and throws `onIdle()`. The
 * deadline runs only while a read waits, not while the caller holds the next read back (its own
 * backpressure is not the daemon's silence). An idleMs past setTimeout's range (Infinity) is no deadline.
 */
export async function * idleReads (body: ReadableStream<Uint8Array>, idleMs: number, onIdle: () => Error): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  let ended = false
  try {
    for (;;) {
      let idle = false
      // past setTimeout's range (Infinity, or over 24.8 days) Node fires after 1 ms: that is no deadline at all
      const timer = idleMs < MAX_TIMER_MS ? setTimeout(() => { idle = true; reader.cancel().catch(() => {}) }, idleMs) : undefined
      let r: Awaited<ReturnType<typeof reader.read>>
      try { r = await reader.read() } finally { clearTimeout(timer) }
      if (idle) throw onIdle()
      if (r.done) { ended = true; return }
      yield r.value
    }
  } finally {
    // left early (the caller threw or broke out): close the connection, as a body's own iterator does,
    // or the daemon keeps the stream (one of its maxStreams slots) open for as long as this process runs
    if (!ended) reader.cancel().catch(() => {})
  }
}
