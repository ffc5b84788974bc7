// A private swarm: libp2p's pre-shared-key connection protector (@libp2p/pnet) encrypts every connection
// with the swarm key before Noise runs, so a node without the key fails the handshake and learns nothing.
// mDNS announcements are not encrypted: the service tag is derived from the key, so swarms with different
// keys on one LAN do not even try to dial each other (and nobody learns the key from the tag).
import { createHash } from 'node:crypto'
import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionProtector } from '@libp2p/interface'

/** the connection protector for a swarm key file's bytes (libp2p's v1 PSK format; see wire/swarm-key.ts) */
export function swarmProtector (key: Uint8Array): (components: unknown) => ConnectionProtector {
  return preSharedKey({ psk: key }) as (components: unknown) => ConnectionProtector
}

/** mDNS service tag of a private swarm: a hash of the key, under the base tag */
export function swarmMdnsTag (key: Uint8Array, base = 'gossipd.local'): string {
  const h = createHash('sha256').update('gossipd/mdns-tag/1\0').update(key).digest('hex').slice(0, 16)
  return `gossipd-${h}.${base.replace(/^gossipd\./, '')}`
}
