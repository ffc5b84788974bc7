// Authenticating a batch of envelopes (a sync batch) with as few signature checks as the hash chain allows.
// Within one origin's stream on one topic, a run of consecutive seqs where each message's prev is the hash
// of the one before is vouched for by the newest message's signature alone: that signature covers its prev,
// which pins the body below it, and so on down. Ed25519 verification is the dominant cost of catch-up, and
// this turns 1,000 verifications per batch into one plus 1,000 SHA-256 hashes.
import { bodyHash, verifyEnvelope, type Envelope } from '../envelope.js'

export type VerifyOne = (e: Envelope) => Promise<boolean>

/**
 * For each envelope, whether it is authentic. `needed[i] === false` marks envelopes the caller will not
 * use (already held): a run made only of those is not checked at all.
 */
export async function verifyBatch (envs: Envelope[], needed?: boolean[], verify: VerifyOne = verifyEnvelope): Promise<boolean[]> {
  const ok = envs.map(() => false)
  const jobs: Array<Promise<void>> = []
  for (const run of linkedRuns(envs)) {
    if (needed != null && !run.some(i => needed[i])) continue
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
  return ok
}

/** Indices grouped into runs of linked messages (same topic and origin, seq + 1, matching prev), oldest first. */
export function linkedRuns (envs: Envelope[]): number[][] {
  const streams = new Map<string, number[]>()
  envs.forEach((e, i) => {
    const key = `${e.topic}\u0000${e.origin}`
    let list = streams.get(key)
    if (list == null) { list = []; streams.set(key, list) }
    list.push(i)
  })
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
