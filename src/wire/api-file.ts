// The rendezvous between a daemon and its clients: the daemon writes <data dir>/api.json (mode 0600),
// clients read the API address and bearer token from it.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const API_FILE = 'api.json'

export interface ApiFile { url: string, token: string, pid: number, peerId: string, addresses: string[], startedAt: string, version: string }

/** GOSSIPD_DATA, else ~/.gossipd */
export function defaultDataDir (env: NodeJS.ProcessEnv = process.env): string {
  return env.GOSSIPD_DATA != null && env.GOSSIPD_DATA !== '' ? resolve(env.GOSSIPD_DATA) : join(homedir(), '.gossipd')
}
