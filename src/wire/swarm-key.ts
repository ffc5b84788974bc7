// The swarm key file (libp2p private networks, the format IPFS uses for swarm.key):
//   /key/swarm/psk/1.0.0/
//   /base16/
//   <64 hex digits>
// Every node of a private swarm holds the same key; a node without it cannot complete a connection.
import { randomBytes } from 'node:crypto'

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'

/** A new random key, as the file's text. */
export function newSwarmKey (): string {
  return `${HEADER}${randomBytes(32).toString('hex')}\n`
}

/** Check a key file's text; returns the bytes libp2p's pre-shared-key protector takes. Throws saying what is wrong. */
export function parseSwarmKey (text: string): Uint8Array {
  const lines = text.split(/\r\n|\r|\n/).map(l => l.trim()).filter(l => l !== '')
  if (lines[0] !== '/key/swarm/psk/1.0.0/') throw new Error('is not a swarm key: the first line must be /key/swarm/psk/1.0.0/ (make one with gossipd keygen)')
  if (lines[1] !== '/base16/') throw new Error('swarm key: only the /base16/ encoding is supported')
  if (lines.length !== 3 || !/^[0-9a-fA-F]{64}$/.test(lines[2])) throw new Error('swarm key: the third line must be 64 hex digits (32 bytes)')
  return new TextEncoder().encode(`${HEADER}${lines[2].toLowerCase()}`)
}
