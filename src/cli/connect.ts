// Which daemon a command talks to: the global --data/--api/--token options and their environment variables.
import { GossipClient } from '../client/client.js'
import { defaultDataDir } from '../wire/api-file.js'
import { UsageError } from './errors.js'
import { isFetchBlockedPort } from '../wire/fetch-ports.js'

export interface GlobalOpts { data?: string, api?: string, token?: string, json?: boolean }

/**
 * The API's URL from --api / GOSSIPD_API. A value no daemon can be at (a bad port, another scheme, a port
 * fetch refuses, which the daemon refuses too) is a usage error naming the setting; sent on, it was reported
 * as "no gossipd daemon running" (exit 3).
 */
function apiUrl (api: string, name: string): string {
  const s = api.trim()
  const text = /^https?:\/\//.test(s) ? s : /^\d+$/.test(s) ? `http://127.0.0.1:${s}` : `http://${s}`
  const bad = (why: string): UsageError => new UsageError(`${name}: ${why}, got ${JSON.stringify(api)}; use HOST:PORT or http://HOST:PORT`)
  // another scheme ('ftp://x') would otherwise become http://ftp://x, host "ftp"
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !/^https?:\/\//.test(s)) throw bad('not an http:// URL')
  let u: URL | undefined
  try { u = new URL(text) } catch { u = undefined }
  if (u == null || u.hostname === '') throw bad('not an address (or a port over 65535)')
  const port = Number(u.port !== '' ? u.port : u.protocol === 'https:' ? 443 : 80)
  if (isFetchBlockedPort(port)) throw bad(`port ${port} is blocked by fetch (the Fetch standard's "bad port" list), so no gossipd API is there`)
  return text
}

/** the token given by --token or GOSSIPD_TOKEN; undefined: the one in api.json is used */
export function givenToken (o: GlobalOpts, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return o.token ?? (env.GOSSIPD_TOKEN || undefined)
}

/** --api/--token (or GOSSIPD_API/GOSSIPD_TOKEN) win; otherwise api.json in --data / GOSSIPD_DATA / ~/.gossipd */
export function clientFromOptions (o: GlobalOpts, env: NodeJS.ProcessEnv = process.env): GossipClient {
  const dataDir = o.data ?? defaultDataDir(env)
  const token = givenToken(o, env)
  const api = o.api ?? (env.GOSSIPD_API || undefined)
  if (api != null) {
    const url = apiUrl(api, o.api != null ? '--api' : 'GOSSIPD_API')
    if (token != null) return new GossipClient({ url, token })
    try {
      return GossipClient.fromDataDir(dataDir, { url })
    } catch {
      throw new UsageError(`--api ${api} needs a token: pass --token or set GOSSIPD_TOKEN (it is in the daemon's data dir, api.json)`)
    }
  }
  return GossipClient.fromDataDir(dataDir, { token })
}
