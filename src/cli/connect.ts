// Which daemon a command talks to: the global --data/--api/--token options and their environment variables.
import { GossipClient } from '../client/client.js'
import { defaultDataDir } from '../wire/api-file.js'
import { UsageError } from './errors.js'

export interface GlobalOpts { data?: string, api?: string, token?: string, json?: boolean }

function apiUrl (api: string): string {
  const s = api.trim()
  if (/^https?:\/\//.test(s)) return s
  if (/^\d+$/.test(s)) return `http://127.0.0.1:${s}`
  return `http://${s}`
}

/** --api/--token (or GOSSIPD_API/GOSSIPD_TOKEN) win; otherwise api.json in --data / GOSSIPD_DATA / ~/.gossipd */
export function clientFromOptions (o: GlobalOpts, env: NodeJS.ProcessEnv = process.env): GossipClient {
  const dataDir = o.data ?? defaultDataDir(env)
  const token = o.token ?? (env.GOSSIPD_TOKEN || undefined)
  const api = o.api ?? (env.GOSSIPD_API || undefined)
  if (api != null) {
    if (token != null) return new GossipClient({ url: apiUrl(api), token })
    try {
      return GossipClient.fromDataDir(dataDir, { url: apiUrl(api) })
    } catch {
      throw new UsageError(`--api ${api} needs a token: pass --token or set GOSSIPD_TOKEN (it is in the daemon's data dir, api.json)`)
    }
  }
  return GossipClient.fromDataDir(dataDir, { token })
}
