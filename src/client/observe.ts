// Client calls for the observability routes: a login link for the swarm page, the live snapshot
// (`gossipd top`) and the log feed (`gossipd monitor`).
import { ApiRequestError, DaemonUnreachableError, streamIdle, type GossipClient } from './client.js'
import { idleReads, DEFAULT_STREAM_IDLE_MS } from './idle-reads.js'
import type { LoginLink, SwarmSnapshot } from '../wire/observe.js'

export type { LoginLink, SwarmSnapshot } from '../wire/observe.js'

async function call (client: GossipClient, method: string, path: string, signal?: AbortSignal): Promise<Response> {
  let res: Response
  try {
    res = await fetch(client.url + path, { method, headers: { authorization: `Bearer ${client.token}` }, signal: signal ?? AbortSignal.timeout(30_000) })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new DaemonUnreachableError(client.url, ((err as Error).cause as Error)?.message)
  }
  if (!res.ok) {
    let code = 'HTTP_' + String(res.status)
    let message = res.statusText
    try { const b = await res.json() as { error?: { code: string, message: string } }; code = b.error?.code ?? code; message = b.error?.message ?? message } catch { /* not JSON */ }
    throw new ApiRequestError(res.status, code, message)
  }
  return res
}

export async function loginLink (client: GossipClient): Promise<LoginLink> {
  return await (await call(client, 'POST', '/v1/ui/login-link')).json() as LoginLink
}

export async function swarmSnapshot (client: GossipClient): Promise<SwarmSnapshot> {
  return await (await call(client, 'GET', '/v1/observe/snapshot')).json() as SwarmSnapshot
}

/**
 * Follow the daemon's log lines (JSON, as pino writes them) at `level` and above until `signal` aborts or
 * the daemon ends the stream. `onDropped` hears how many lines a slow reader missed.
 */
export async function followLogs (client: GossipClient, level: string, onLine: (line: string) => void, opts: { signal?: AbortSignal, onDropped?: (n: number) => void, idleTimeoutMs?: number } = {}): Promise<void> {
  const res = await call(client, 'GET', `/v1/logs?level=${encodeURIComponent(level)}`, opts.signal ?? new AbortController().signal)
  const decoder = new TextDecoder()
  let buf = ''
  try {
    const idleMs = opts.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_MS
    // a silent daemon is one that went away, as a closed connection is for `monitor` (exit 3)
    const gone = (): Error => new DaemonUnreachableError(client.url, undefined, `the daemon at ${client.url} went away during the log stream (${streamIdle(idleMs).message})`)
    for await (const chunk of idleReads(res.body as ReadableStream<Uint8Array>, idleMs, gone)) {
      buf += decoder.decode(chunk, { stream: true })
      let i: number
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        let event = 'message'
        const data: string[] = []
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7)
          else if (line.startsWith('data: ')) data.push(line.slice(6))
        }
        if (event === 'log') onLine(data.join('\n'))
        else if (event === 'dropped') opts.onDropped?.(JSON.parse(data.join('\n')).lines)
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err
  }
}
