// Batch acceptance for the puller: a sync batch is authenticated as a whole (one signature per linked
// run, see verify-batch.ts), then every envelope goes through the same inbound pipeline as gossip.
import { decodeEnvelope, readHeldEnvelope, type Envelope } from '../envelope.js'
import { verifyBatch, type HeldPrev } from './verify-batch.js'
import type { AcceptBatch } from './protocol.js'
import type { Inbound } from '../inbound.js'
import type { Store } from '../../store/store.js'
import type { Emit, NodeStats } from '../events.js'
import type { PeerId } from '@libp2p/interface'

/**
 * Penalty points for the malformed envelopes of one sync batch: one each, as by gossip, but at most this
 * many per batch, so a server with a few corrupt rows is not banned by one pull while a server sending
 * garbage after every ack is banned within a few batches (node.ts: 50 points by default)
 */
export const MALFORMED_POINTS_PER_BATCH = 10

export interface BatchParts {
  store: Store
  inbound: Pick<Inbound, 'acceptEnvelope' | 'checkSignature' | 'mayStore'>
  isJoined: (topic: string) => boolean
  emit: Emit
  /** status counters: malformed envelopes count in `rejected` */
  stats: Pick<NodeStats, 'rejected'>
  /** the server sent something invalid (penalties.ts) */
  penalise: (peer: PeerId, points: number) => void
}

export function batchAcceptor (p: BatchParts): AcceptBatch {
  return async (raws, from, asked) => {
    // authenticate the whole batch at once (one signature per linked run). Every message then waits on
    // the same promise, so all of the batch's inserts are queued in one tick and committed in one
    // transaction, without holding back commits of gossip arriving meanwhile
    const decoded: Array<{ env: Envelope, raw: Uint8Array }> = []
    let malformed = 0
    let why = ''
    for (const raw of raws) {
      try { decoded.push({ env: decodeEnvelope(raw), raw }) } catch (err) {
        malformed++
        if (why === '') why = (err as Error).message
      }
    }
    if (malformed > 0) {
      // each one counted; one event (and so one log line) and one capped penalty for the whole batch, so a
      // batch of garbage costs the server its standing without costing us a line per envelope
      p.stats.rejected += malformed
      p.emit('rejected', { peer: from.toString(), reason: 'malformed envelope in sync', count: malformed, detail: `${malformed} of ${raws.length} in one batch, first: ${why.slice(0, 200)}` })
      p.penalise(from, Math.min(malformed, MALFORMED_POINTS_PER_BATCH))
    }
    // the pull's progress (protocol.ts): well-formed envelopes the server had reason to send
    let askedCount = 0
    let askedBytes = 0
    for (const { env, raw } of decoded) {
      if (asked == null || asked(env.topic, env.origin, env.seq)) { askedCount++; askedBytes += raw.byteLength }
    }
    const envs = decoded.map(d => d.env)
    const needed = envs.map(e => p.isJoined(e.topic) && !p.store.has(e.topic, e.origin, e.seq) && p.inbound.mayStore(e.topic, e.origin))
    const authentic = verifyBatch(envs, needed, async e => await p.inbound.checkSignature(e), heldPrevOf(p.store))
    const results = await Promise.all(decoded.map(async ({ env, raw }, i) =>
      await p.inbound.acceptEnvelope(env, raw, from, 'sync', false, async () => (await authentic)[i])))
    // envelopes rejected (a bad signature, a publisher not allowed): one capped penalty for the batch, as
    // for malformed ones. An honest server may hold a run whose signatures a relay swapped (stored, the
    // chain vouching for the bodies): sent without the run's newest, none of it verifies here, and one
    // point each was 1,000 points for one batch, a ban of the honest server at a fresh puller's first pull
    // (a forged other version of a held id is penalised a point each, in inbound.ts heldCopy)
    const rejected = results.filter((r, i) => r === 'rejected' && needed[i]).length
    if (rejected > 0) p.penalise(from, Math.min(rejected, MALFORMED_POINTS_PER_BATCH))
    await p.store.whenFlushed()
    return { stored: results.filter(r => r === 'stored').length, asked: askedCount, askedBytes }
  }
}

/** the prev of a held message (verify-batch.ts): a run linking up to it needs no signature check */
export function heldPrevOf (store: Store): HeldPrev {
  return (topic, origin, seq) => readHeldEnvelope(store, topic, origin, seq)?.prev
}
