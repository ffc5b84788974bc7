// A small typed client for the daemon's control API. Used by the CLI and the REPL; usable from any code.
// No process globals here: options come from the caller (the CLI's lookup: src/cli/connect.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { API_FILE } from '../wire/api-file.js'
import { ERROR_CODES, type ErrorBody } from '../wire/errors.js'
import type { MessageJson, PayloadEncoding } from '../wire/message.js'
import { topicProblem } from '../wire/topic.js'
import { consumerNameProblem } from '../wire/consumer-name.js'
import { idleReads, DEFAULT_STREAM_IDLE_MS } from './idle-reads.js'
import type { GapEvent, HistoryResult, PeerInfo, PeersResult, PublishResult, Status, TopicInfo, TopicsResult } from '../wire/results.js'

export interface ClientOptions {
  /** e.g. http://127.0.0.1:7420 */
  url: string
  token: string
  /** per-request timeout for non-streaming calls (default 30 s) */
  timeoutMs?: number
}

/** The daemon answered with an error. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError'
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

/** Nothing answers at the API address, or no api.json tells where the daemon is. */
export class DaemonUnreachableError extends Error {
  override name = 'DaemonUnreachableError'
  constructor (readonly where: string, detail?: string, message?: string) {
    super(message ?? `no gossipd daemon running at ${where}${detail != null ? ` (${detail})` : ''} (start one with: gossipd start)`)
  }
}

export type From = 'beginning' | 'now' | { offset: number } | { time: number | string | Date }

export interface StreamOptions {
  from?: From
  /** durable consumer name: resumes from its acked cursor; ack with client.ack() */
  consumer?: string
  /** resume an anonymous stream after this offset */
  lastEventId?: number
  encoding?: PayloadEncoding
  /** join the topic if the daemon does not keep it yet (otherwise an unknown topic is a 404) */
  join?: boolean
  signal?: AbortSignal
  onGap?: (gap: GapEvent) => void
  /** stream() rejects (TIMEOUT) if the daemon has not confirmed the stream within this (default 10 s) */
  readyTimeoutMs?: number
  /**
   * at most this many bytes of received, not yet iterated messages are buffered (default 8 MiB); past it
   * the response body is not read, so the daemon's writes wait (backpressure) instead of memory growing
   */
  maxBufferBytes?: number
  /**
   * the stream ends with an error (TIMEOUT) when the daemon sends nothing, not even its heartbeat (every
   * 15 s), for this long while we read: a frozen daemon or a connection that died without a word (default 45 s; Infinity: none)
   */
  idleTimeoutMs?: number
}

export const DEFAULT_STREAM_BUFFER_BYTES = 8 * 1024 * 1024

export function fromParam (from: From): string {
  if (from === 'beginning' || from === 'now') return from
  if ('offset' in from) return `offset:${from.offset}`
  const t = from.time
  return `time:${t instanceof Date ? t.getTime() : t}`
}

/** Parse the CLI/REPL spelling of a start position: beginning | now | offset:N | time:ISO | N (offset) | ISO date */
/** `what` names the argument in the error: the CLI's --from, the REPL's FROM */
export function parseFromArg (s: string, what = '--from'): From {
  if (s === 'beginning' || s === 'now') return s
  const bad = (): Error => new Error(`invalid ${what} ${JSON.stringify(s)}: use beginning, now, offset:N or time:ISO-8601`)
  const offset = /^(?:offset:)?(\d+)$/.exec(s)
  if (offset != null) {
    // the daemon's rule: an offset a number holds exactly
    if (!Number.isSafeInteger(Number(offset[1]))) throw bad()
    return { offset: Number(offset[1]) }
  }
  const t = s.startsWith('time:') ? s.slice(5) : s
  const ms = /^\d+$/.test(t) ? Number(t) : Date.parse(t)
  if (Number.isNaN(new Date(ms).getTime())) throw bad()
  return { time: ms }
}

function isConnectionError (err: unknown): boolean {
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_SOCKET']
  let e = err as { code?: string, errors?: unknown, cause?: unknown } | undefined
  for (let i = 0; i < 4 && e != null; i++) {
    if (codes.includes(e.code ?? '')) return true
    if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true
    e = e.cause as typeof e
  }
  return false
}

/** The error a failed fetch() to the daemon becomes when it could not reach it at all, or undefined. */
function unreachable (err: unknown, url: string): DaemonUnreachableError | undefined {
  if (isConnectionError(err)) return new DaemonUnreachableError(url)
  if (err instanceof TypeError && (err.cause as Error)?.message != null) return new DaemonUnreachableError(url, (err.cause as Error).message)
  return undefined
}

export class GossipClient {
  readonly url: string
  /** the bearer token (observe.ts sends it on the log and page routes) */
  readonly token: string
  private readonly timeoutMs: number

  constructor (opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '')
    this.token = opts.token
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  /** Client for the daemon that owns this data dir (reads its api.json). */
  static fromDataDir (dataDir: string, opts: Partial<ClientOptions> = {}): GossipClient {
    let info: { url?: unknown, token?: unknown }
    try {
      info = JSON.parse(readFileSync(join(dataDir, API_FILE), 'utf8'))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new DaemonUnreachableError(`data dir ${dataDir}`, code === 'ENOENT' ? 'no api.json there' : code === 'EACCES' ? 'api.json is not readable by this user' : 'api.json is unreadable')
    }
    if (typeof info.url !== 'string' || typeof info.token !== 'string') throw new DaemonUnreachableError(`data dir ${dataDir}`, 'api.json is malformed')
    return new GossipClient({ url: opts.url ?? info.url, token: opts.token ?? info.token, timeoutMs: opts.timeoutMs })
  }

  private async request<T> (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let res: Response
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...headers },
      signal: AbortSignal.timeout(this.timeoutMs),
    }
    if (body instanceof Uint8Array) {
      init.body = body
      ;(init.headers as Record<string, string>)['content-type'] ??= 'application/octet-stream'
    } else if (body !== undefined) {
      init.body = JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
    try {
      res = await fetch(this.url + path, init)
    } catch (err) {
      throw unreachable(err, this.url) ?? ((err as Error).name === 'TimeoutError'
        ? new ApiRequestError(504, 'TIMEOUT', `the daemon at ${this.url} did not answer within ${this.timeoutMs} ms`)
        : err)
    }
    return await this.parse<T>(res)
  }

  private async parse<T> (res: Response): Promise<T> {
    const text = await res.text()
    let data: unknown
    try { data = text === '' ? {} : JSON.parse(text) } catch { data = undefined }
    if (!res.ok) {
      const e = (data as Partial<ErrorBody> | undefined)?.error
      throw new ApiRequestError(res.status, typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`, typeof e?.message === 'string' ? e.message : `HTTP ${res.status} ${res.statusText}`)
    }
    if (data === undefined) throw new ApiRequestError(res.status, 'BAD_RESPONSE', `the daemon at ${this.url} sent a response that is not JSON`)
    return data as T
  }

  /** The URL path of a topic; a name the daemon would refuse is refused here (400 BAD_TOPIC, as the daemon answers). */
  private static topicPath (topic: string): string {
    const problem = topicProblem(topic)
    if (problem != null) throw new ApiRequestError(400, ERROR_CODES.BAD_TOPIC, problem)
    return `/v1/topics/${encodeURIComponent(topic)}`
  }

  async status (): Promise<Status> { return await this.request('GET', '/v1/status') }
  async peers (): Promise<PeerInfo[]> { return (await this.request<PeersResult>('GET', '/v1/peers')).peers }
  async topics (): Promise<TopicInfo[]> { return (await this.request<TopicsResult>('GET', '/v1/topics')).topics }
  async join (topic: string): Promise<void> { await this.request('PUT', GossipClient.topicPath(topic)) }
  async leave (topic: string, opts: { purge?: boolean } = {}): Promise<void> {
    await this.request('DELETE', GossipClient.topicPath(topic) + (opts.purge === true ? '?purge=true' : ''))
  }

  /**
   * Resolves once the message is on the daemon's disk. Strings go as UTF-8, bytes as base64. With msgId
   * (an idempotency key), retrying is safe: a repeat within the daemon's window (2 min) returns the first
   * result with duplicate: true. durable: false means published, but the daemon's fsync failed.
   */
  async publish (topic: string, payload: string | Uint8Array, opts: { msgId?: string } = {}): Promise<PublishResult> {
    const body = typeof payload === 'string' ? { payload } : { payload: Buffer.from(payload).toString('base64'), encoding: 'base64' }
    return await this.request('POST', `${GossipClient.topicPath(topic)}/messages`, body, opts.msgId != null ? { 'gossipd-msg-id': opts.msgId } : {})
  }

  async history (topic: string, opts: { after?: number, limit?: number, encoding?: PayloadEncoding } = {}): Promise<MessageJson[]> {
    const q = new URLSearchParams()
    if (opts.after != null) q.set('after', String(opts.after))
    if (opts.limit != null) q.set('limit', String(opts.limit))
    if (opts.encoding != null) q.set('encoding', opts.encoding)
    const qs = q.toString()
    return (await this.request<HistoryResult>('GET', `${GossipClient.topicPath(topic)}/messages${qs !== '' ? `?${qs}` : ''}`)).messages
  }

  async ack (topic: string, consumer: string, m: { origin: string, seq: number }): Promise<void> {
    const problem = consumerNameProblem(consumer)
    if (problem != null) throw new ApiRequestError(400, ERROR_CODES.BAD_REQUEST, problem)
    await this.request('POST', `${GossipClient.topicPath(topic)}/consumers/${encodeURIComponent(consumer)}/ack`, { origin: m.origin, seq: m.seq })
  }

  /**
   * Live messages of a topic (Server-Sent Events). Resolves once the daemon has opened the stream, so a
   * message published after this resolves is delivered. Iterate the result; close() (or the signal) ends it.
   */
  async stream (topic: string, opts: StreamOptions = {}): Promise<MessageStream> {
    const path = GossipClient.topicPath(topic)
    // refused before sending, as ack does: a name the ack route cannot carry must not stream either
    const problem = opts.consumer != null ? consumerNameProblem(opts.consumer) : undefined
    if (problem != null) throw new ApiRequestError(400, ERROR_CODES.BAD_REQUEST, problem)
    const q = new URLSearchParams()
    if (opts.from != null) q.set('from', fromParam(opts.from))
    if (opts.consumer != null) q.set('consumer', opts.consumer)
    if (opts.encoding != null) q.set('encoding', opts.encoding)
    if (opts.join === true) q.set('join', 'true')
    const ctrl = new AbortController()
    const onAbort = (): void => ctrl.abort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }
    if (opts.lastEventId != null) headers['last-event-id'] = String(opts.lastEventId)
    let res: Response
    try {
      res = await fetch(`${this.url}${path}/stream${q.size > 0 ? `?${q.toString()}` : ''}`, { headers, signal: ctrl.signal })
    } catch (err) {
      opts.signal?.removeEventListener('abort', onAbort)
      throw unreachable(err, this.url) ?? err
    }
    if (!res.ok || res.body == null) {
      opts.signal?.removeEventListener('abort', onAbort)
      await this.parse(res)
      throw new ApiRequestError(res.status, 'BAD_RESPONSE', 'stream has no body')
    }
    const s = new MessageStream(res.body, ctrl, opts.onGap, () => opts.signal?.removeEventListener('abort', onAbort), opts.maxBufferBytes, opts.idleTimeoutMs)
    const readyMs = opts.readyTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([s.ready, new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new ApiRequestError(504, 'TIMEOUT', `the daemon at ${this.url} answered the stream request but did not confirm the stream (no ready event) within ${readyMs} ms`)), readyMs)
      })])
    } catch (err) {
      s.close()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return s
  }
}

interface SseEvent { event: string, data: string, id?: string }

/** a stream on which the daemon said nothing, not even its heartbeat, for `ms` (idle-reads.ts) */
export function streamIdle (ms: number): ApiRequestError {
  return new ApiRequestError(504, 'TIMEOUT', `the daemon sent nothing on the stream, not even a heartbeat, for ${ms} ms`)
}

export class MessageStream implements AsyncIterable<MessageJson> {
  readonly ready: Promise<void>
  private readyResolve!: () => void
  private readyReject!: (e: Error) => void
  private readonly queue: Array<{ m: MessageJson, bytes: number }> = []
  private queuedBytes = 0
  /** the reader paused at the byte bound waits on this */
  private resumeReader?: () => void
  private waiter?: () => void
  private done = false
  private error?: Error
  /** offset of the last message received (for Last-Event-ID resumption) */
  lastEventId?: number

  constructor (body: ReadableStream<Uint8Array>, private readonly ctrl: AbortController, private readonly onGap?: (g: GapEvent) => void, private readonly cleanup: () => void = () => {}, private readonly maxBufferBytes = DEFAULT_STREAM_BUFFER_BYTES, private readonly idleTimeoutMs = DEFAULT_STREAM_IDLE_MS) {
    this.ready = new Promise((resolve, reject) => { this.readyResolve = resolve; this.readyReject = reject })
    this.ready.catch(() => {})
    void this.pump(body)
  }

  private async pump (body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const value of idleReads(body, this.idleTimeoutMs, () => streamIdle(this.idleTimeoutMs))) {
        buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const ev: SseEvent = { event: 'message', data: '' }
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line === '' || line.startsWith(':')) continue
            const c = line.indexOf(':')
            const field = c < 0 ? line : line.slice(0, c)
            const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '')
            if (field === 'event') ev.event = val
            else if (field === 'data') data.push(val)
            else if (field === 'id') ev.id = val
          }
          if (data.length === 0) continue
          ev.data = data.join('\n')
          this.dispatch(ev, block.length)
        }
        // full: stop reading the body until the iterator made room; TCP backpressure reaches the daemon
        while (this.queuedBytes >= this.maxBufferBytes && !this.ctrl.signal.aborted) {
          await new Promise<void>(resolve => { this.resumeReader = resolve })
          this.resumeReader = undefined
        }
      }
    } catch (err) {
      if (!this.ctrl.signal.aborted) this.error = isConnectionError(err) ? new Error('the daemon closed the stream') : err as Error
    } finally {
      this.done = true
      this.cleanup()
      this.readyReject(this.error ?? new Error('stream ended before it was ready'))
      this.waiter?.()
    }
  }

  /** bytes of received messages not yet taken by the iterator (bounded by maxBufferBytes plus one read) */
  get bufferedBytes (): number { return this.queuedBytes }

  private dispatch (ev: SseEvent, bytes: number): void {
    if (ev.event === 'ready') {
      // the daemon's start position (an anonymous stream from now or an offset): resuming after it loses nothing
      if (ev.id != null && /^\d+$/.test(ev.id)) this.lastEventId = Number(ev.id)
      this.readyResolve()
      return
    }
    if (ev.event === 'gap') { this.onGap?.(JSON.parse(ev.data)); return }
    if (ev.event !== 'message') return
    const m = JSON.parse(ev.data) as MessageJson
    if (ev.id != null) this.lastEventId = Number(ev.id)
    this.queue.push({ m, bytes })
    this.queuedBytes += bytes
    this.waiter?.()
  }

  /** true when the daemon ended the stream (not by close()) */
  get endedByServer (): boolean { return this.done && !this.ctrl.signal.aborted }

  close (): void {
    this.ctrl.abort()
    this.resumeReader?.()
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<MessageJson> {
    try {
      for (;;) {
        const item = this.queue.shift()
        if (item != null) {
          this.queuedBytes -= item.bytes
          if (this.queuedBytes < this.maxBufferBytes) this.resumeReader?.()
          yield item.m
          continue
        }
        if (this.done) {
          if (this.error != null) throw this.error
          return
        }
        await new Promise<void>(resolve => { this.waiter = resolve })
        this.waiter = undefined
      }
    } finally {
      // a loop left early (break, return, a throw in its body): the request would stay open, holding the
      // process and one of the daemon's stream slots
      if (!this.done) this.close()
    }
  }
}
