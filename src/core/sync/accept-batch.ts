// Batch acceptance for the puller: a sync batch is authenticated as a whole (one signature per linked
// run, see verify-batch.ts), then every envelope goes through the same inbound pipeline as gossip.
import { decodeEnvelope, type Envelope } from '../envelope.js'
import { verifyBatch } from './verify-batch.js'
import type { AcceptBatch } from './protocol.js'
import type { Inbound } from '../inbound.js'
import type { Store } from '../../store/store.js'
import type { Emit } from '../events.js'

export interface BatchParts {
  store: Store
  inbound: Pick<Inbound, 'acceptEnvelope' | 'checkSignature'>
  isJoined: (topic: string) => boolean
  emit: Emit
}

export function batchAcceptor (p: BatchParts): AcceptBatch {
  return async (raws, from) => {
    // authenticate the whole batch at once (one signature per linked run). Every message then waits on
    // the same promise, so all of the batch's inserts are queued in one tick and committed in one
    // transaction, without holding back commits of gossip arriving meanwhile
    const decoded: Array<{ env: Envelope, raw: Uint8Array }> = []
    for (const raw of raws) {
      try { decoded.push({ env: decodeEnvelope(raw), raw }) } catch {
        p.emit('rejected', { peer: from.toString(), reason: 'malformed envelope in sync' })
      }
    }
    const envs = decoded.map(d => d.env)
    const needed = envs.map(e => p.isJoined(e.topic) && !p.store.has(e.topic, e.origin, e.seq))
    const authentic = verifyBatch(envs, needed, async e => await p.inbound.checkSignature(e))
    const results = await Promise.all(decoded.map(async ({ env, raw }, i) =>
      await p.inbound.acceptEnvelope(env, raw, from, 'sync', false, async () => (await authentic)[i])))
    await p.store.whenFlushed()
    return results.filter(r => r === 'stored').length
  }
}
