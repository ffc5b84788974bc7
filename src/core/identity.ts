// The node's libp2p identity (Ed25519), created once and kept in the data dir with 0600 permissions,
// so the peer id (and therefore the origin of everything this node publishes) is stable across restarts.
import { readFileSync, writeFileSync, chmodSync, statSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { makeDir } from '../store/make-dir.js'

export const IDENTITY_FILE = 'identity.key'

export class IdentityError extends Error {
  override name = 'IdentityError'
}

export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  makeDir(dataDir)
  const path = join(dataDir, IDENTITY_FILE)
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IdentityError(`cannot read identity ${path}: ${(err as Error).message}`)
  }
  if (bytes != null) {
    let key: PrivateKey
    try {
      key = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new IdentityError(`identity ${path} is not a valid libp2p private key (${(err as Error).message}); restore it or move it aside to get a new peer id`)
    }
    if (key.type !== 'Ed25519') throw new IdentityError(`identity ${path} is a ${key.type} key; gossipd signs envelopes with Ed25519 keys only`)
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
    return key
  }
  const key = await generateKeyPair('Ed25519')
  const tmp = `${path}.tmp`
  writeFileSync(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
  // the key and its name must be on disk before anything is published under it: a key lost to a power
  // cut would leave the store bound to a peer id that no longer exists
  fsyncPath(tmp)
  renameSync(tmp, path)
  fsyncPath(dataDir)
  return key
}

function fsyncPath (path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
