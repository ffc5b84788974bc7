// The fault checker's view of one daemon: its control API over the unix socket that api-bridge.ts forwards
// into the daemon's namespace. The token is read from the data dir's api.json on every call, since a
// restarted daemon has a new one.
import { request, type IncomingMessage } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MessageJson } from '../wire/message.js'
import type { PublishResult, GapEvent } from '../wire/results.js'

export const API_PORT = 7420

export class ApiCallError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

export class NodeApi {
  constructor (readonly socketPath: string, readonly dataDir: string) {}

  private token (): string {
    return (JSON.parse(readFileSync(join(this.dataDir, 'api.json'), 'utf8')) as { token: string }).token
  }

  private open (method: string, path: string, timeoutMs: number, headers: Record<string, string> = {}): ReturnType<typeof request> {
    return request({
      socketPath: this.socketPath,
      method,
      path,
      timeout: timeoutMs,
      // the API checks Host against the address it is bound to
      headers: { host: `127.0.0.1:${API_PORT}`, authorization: `Bearer ${this.token()}`, ...headers },
    })
  }

  async call<T> (method: string, path: string, body?: unknown, timeoutMs = 5_000, headers: Record<string, string> = {}): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      let req: ReturnType<typeof request>
      try {
        req = this.open(method, path, timeoutMs, body != null ? { 'content-type': 'application/json', ...headers } : headers)
      } catch (err) { reject(err as Error); return }
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)))
      req.on('error', reject)
      req.on('response', res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if ((res.statusCode ?? 500) >= 300) reject(new ApiCallError(res.statusCode ?? 500, `${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`))
          else {
            try { resolve(JSON.parse(text) as T) } catch (err) { reject(err as Error) }
          }
        })
      })
      req.end(body != null ? JSON.stringify(body) : undefined)
    })
  }

  async publish (topic: string, payload: string, key: string): Promise<PublishResult> {
    // the idempotency key lets a daemon that supports it answer a retry with the first result
    return await this.call<PublishResult>('POST', `/v1/topics/${encodeURIComponent(topic)}/messages`, { payload }, 5_000, { 'idempotency-key': key })
  }

  /** this daemon's peer id, from its api.json */
  peerId (): string {
    return (JSON.parse(readFileSync(join(this.dataDir, 'api.json'), 'utf8')) as { peerId: string }).peerId
  }

  async peers (): Promise<string[]> {
    return (await this.call<{ peers: Array<{ id: string }> }>('GET', '/v1/peers', undefined, 3_000)).peers.map(p => p.id)
  }

  async status (): Promise<{ peers: number }> {
    return await this.call('GET', '/v1/status', undefined, 3_000)
  }

  /** the whole stored history of a topic, paged by offset */
  async history (topic: string): Promise<MessageJson[]> {
    const all: MessageJson[] = []
    let after: number | undefined
    for (;;) {
      const q = `limit=10000${after != null ? `&after=${after}` : ''}`
      const page = await this.call<{ messages: MessageJson[] }>('GET', `/v1/topics/${encodeURIComponent(topic)}/messages?${q}`, undefined, 10_000)
      all.push(...page.messages)
      if (page.messages.length < 10_000) return all
      after = page.messages[page.messages.length - 1].offset
    }
  }

  async ack (topic: string, consumer: string, origin: string, seq: number): Promise<void> {
    await this.call('POST', `/v1/topics/${encodeURIComponent(topic)}/consumers/${consumer}/ack`, { origin, seq }, 5_000)
  }

  /** Opens an SSE stream of a durable consumer; resolves once the response is there. */
  async stream (topic: string, consumer: string, on: { message: (m: MessageJson) => void, gap: (g: GapEvent) => void, end: () => void }): Promise<{ close: () => void }> {
    return await new Promise((resolve, reject) => {
      let req: ReturnType<typeof request>
      try {
        req = this.open('GET', `/v1/topics/${encodeURIComponent(topic)}/stream?consumer=${consumer}&from=beginning`, 5_000)
      } catch (err) { reject(err as Error); return }
      let ended = false
      const end = (): void => { if (!ended) { ended = true; on.end() } }
      req.on('timeout', () => req.destroy(new Error('stream timed out')))
      req.on('error', err => { reject(err); end() })
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) { res.resume(); reject(new ApiCallError(res.statusCode ?? 500, `stream: ${res.statusCode}`)); end(); return }
        // heartbeats come every few seconds; a stopped daemon sends none, which the caller's watchdog sees
        req.setTimeout(0)
        let buf = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buf += chunk
          let i
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i)
            buf = buf.slice(i + 2)
            let event = 'message'
            let data = ''
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7)
              else if (line.startsWith('data: ')) data += line.slice(6)
            }
            if (data === '') continue
            if (event === 'message') on.message(JSON.parse(data) as MessageJson)
            else if (event === 'gap') on.gap(JSON.parse(data) as GapEvent)
          }
        })
        res.on('end', end)
        res.on('close', end)
        res.on('error', end)
        resolve({ close: () => { req.destroy(); end() } })
      })
      req.end()
    })
  }
}
