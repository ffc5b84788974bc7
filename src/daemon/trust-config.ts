// The access-control settings of the config (issue 10): the swarm key, peer allow/deny lists and per-topic
// publisher allowlists. Validated here, like the rest of config.ts, naming the key at fault.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { TOPIC_PATTERN } from '../core/limits.js'
import { parseSwarmKey } from '../wire/swarm-key.js'

export interface TrustConfig {
  /** the swarm key file's path and bytes: a private swarm */
  swarmKeyFile?: string
  swarmKey?: Uint8Array
  /** only these peers may connect (undefined: anyone not denied) */
  allowPeers?: string[]
  /** these peers may never connect */
  denyPeers: string[]
  /** topic -> the only origins whose messages are accepted on it */
  publishers: Record<string, string[]>
}

export type Fail = (name: string, message: string) => never

function peerIds (name: string, v: unknown, fail: Fail): string[] {
  const list = typeof v === 'string' ? v.split(',').map(s => s.trim()).filter(s => s !== '') : v
  if (!Array.isArray(list) || list.some(x => typeof x !== 'string')) fail(name, `must be a list of peer ids, got ${JSON.stringify(v)}`)
  ;(list as string[]).forEach((id, i) => {
    try { peerIdFromString(id) } catch { fail(`${name}[${i}]`, `is not a peer id: ${JSON.stringify(id)}`) }
  })
  return list as string[]
}

export function swarmKeyFrom (name: string, v: unknown, fail: Fail): { swarmKeyFile: string, swarmKey: Uint8Array } {
  if (typeof v !== 'string' || v.trim() === '') fail(name, `must be the path of a swarm key file (gossipd keygen FILE), got ${JSON.stringify(v)}`)
  const file = resolve(v as string)
  let text: string
  try { text = readFileSync(file, 'utf8') } catch (err) { return fail(name, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`) }
  try {
    return { swarmKeyFile: file, swarmKey: parseSwarmKey(text) }
  } catch (err) {
    return fail(name, `${file} ${(err as Error).message}`)
  }
}

export function allowPeersFrom (name: string, v: unknown, fail: Fail): string[] { return peerIds(name, v, fail) }

export function publishersFrom (name: string, v: unknown, fail: Fail): Record<string, string[]> {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) fail(name, `must be an object of topic -> list of peer ids, got ${JSON.stringify(v)}`)
  const out: Record<string, string[]> = {}
  for (const [topic, ids] of Object.entries(v as object)) {
    if (!TOPIC_PATTERN.test(topic)) fail(`${name}.${topic}`, 'is not a valid topic name')
    out[topic] = peerIds(`${name}.${topic}`, ids, fail)
  }
  return out
}
