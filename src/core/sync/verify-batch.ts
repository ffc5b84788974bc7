// Authenticating a batch of envelopes (a sync batch) with as few signature checks as the hash chain allows.
// Within one origin's stream on one topic, a run of consecutive seqs where each message's prev is the hash
// of the one before is vouched for by the newest message's signature alone: that signature covers its prev,
// which pins the body below it, and so on down. Ed25519 verification is the dominant cost of catch-up, and
// this turns 1,000 verifications per batch into one plus 1,000 SHA-256 hashes.
import { bodyHash, verifyEnvelope, SIG_BYTES, type Envelope } from '../envelope.js'
import { sameBytes } from '../bytes.js'

export type VerifyOne = (e: Envelope) => Promise<boolean>
/** the prev of the message held at (topic, origin, seq), if any: it was authenticated when it was stored */
export type HeldPrev = (topic: string, origin: string, seq: number) => Uint8Array | null | undefined

/**
 * Distinct versions (body or signature bytes differ) of one id (topic, origin, seq) checked per batch, at
 * most. Only one version of an id can be the origin's (an honest server holds one and sends it once), so a
 * batch with several is a lie or a relayed forgery: the versions beyond the first are checked one at a
 * time, only while none has passed, and past this many the rest are refused unchecked. Nothing is lost by
 * that: what is not stored is pulled again (next pull, other peers), while a hostile server can no longer
 * buy many checks with one id.
 */
export const MAX_VERSIONS_PER_ID = 3

/**
 * For each envelope, whether it is authentic. `needed[i] === false` marks envelopes the caller will not
 * use (already held): a run made only of those is not checked at all. Copies are collapsed first: each id
 * (topic, origin, seq) is checked at most MAX_VERSIONS_PER_ID times per batch, an identical copy never
 * again (each copy gets the outcome of its version).
 */
export async function verifyBatch (envs: Envelope[], needed?: boolean[], verify: VerifyOne = verifyEnvelope, heldPrev?: HeldPrev): Promise<boolean[]> {
  const ok = envs.map(() => false)
  const { versionOf, versions } = collapse(envs)
  // a version is needed if any of its copies is
  const wanted = envs.map(() => needed == null)
  if (needed != null) envs.forEach((_, i) => { if (needed[i] && versionOf[i] >= 0) wanted[versionOf[i]] = true })
  const firsts = [...versions.values()].map(v => v[0])
  const jobs: Array<Promise<void>> = []
  for (const run of linkedRuns(envs, firsts)) {
    if (!run.some(i => wanted[i])) continue
    // a run the message we hold right above it links to is vouched for by that message. Without this, a
    // message whose signature a relay swapped (its body still pinned by the next one's prev, so stored) was
    // refused whenever it came alone, to a node holding the next one: lost there, its honest server penalised
    const top = envs[run[run.length - 1]]
    const anchor = heldPrev?.(top.topic, top.origin, top.seq + 1)
    if (anchor != null && bodyHash(top.body).equals(anchor)) {
      for (const i of run) ok[i] = true
      continue
    }
    jobs.push((async () => {
      // a bad newest message proves nothing about the ones below it, which may still link up to a
      // good one: try the next newest, and so on (one check per run unless someone lies)
      for (let end = run.length; end > 0; end--) {
        if (await verify(envs[run[end - 1]])) {
          for (const i of run.slice(0, end)) ok[i] = true
          return
        }
      }
    })())
  }
  await Promise.all(jobs)
  // other versions of an id whose first version failed: one at a time, until one passes
  await Promise.all([...versions.values()].filter(v => v.length > 1 && !ok[v[0]] && wanted[v[0]]).map(async v => {
    for (const i of v.slice(1)) {
      if (await verify(envs[i])) { ok[i] = true; return }
    }
  }))
  // the chain pins bodies, not signatures: a sig no origin could have made (not 64 bytes) is a relay's
  // padding, which would be stored and served onward as the message's bytes
  return envs.map((e, i) => versionOf[i] >= 0 && ok[versionOf[i]] && e.sig.byteLength === SIG_BYTES)
}

/**
 * Per id, the indices of its distinct versions (first copy of each, at most MAX_VERSIONS_PER_ID), and for
 * each envelope the index of its version (-1: a version past the limit, never checked).
 */
function collapse (envs: Envelope[]): { versionOf: number[], versions: Map<string, number[]> } {
  const versions = new Map<string, number[]>()
  const versionOf = envs.map((e, i) => {
    const id = `${e.topic}\u0000${e.origin}\u0000${e.seq}`
    const list = versions.get(id)
    if (list == null) { versions.set(id, [i]); return i }
    const same = list.find(j => sameBytes(envs[j].sig, e.sig) && sameBytes(envs[j].body, e.body))
    if (same != null) return same
    if (list.length >= MAX_VERSIONS_PER_ID) return -1
    list.push(i)
    return i
  })
  return { versionOf, versions }
}

/**
 * Indices (of `among`, default all) grouped into runs of linked messages (same topic and origin, seq + 1,
 * matching prev), oldest first.
 */
export function linkedRuns (envs: Envelope[], among: number[] = envs.map((_, i) => i)): number[][] {
  const streams = new Map<string, number[]>()
  for (const i of among) {
    const e = envs[i]
    const key = `${e.topic}\u0000${e.origin}`
    let list = streams.get(key)
    if (list == null) { list = []; streams.set(key, list) }
    list.push(i)
  }
  const runs: number[][] = []
  for (const list of streams.values()) {
    list.sort((a, b) => envs[a].seq - envs[b].seq)
    let run = [list[0]]
    for (let k = 1; k < list.length; k++) {
      const below = envs[list[k - 1]]
      const e = envs[list[k]]
      if (e.seq === below.seq + 1 && e.prev != null && bodyHash(below.body).equals(e.prev)) {
        run.push(list[k])
      } else {
        runs.push(run)
        run = [list[k]]
      }
    }
    runs.push(run)
  }
  return runs
}
