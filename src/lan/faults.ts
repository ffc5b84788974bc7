// The faults a fault run injects into the simulated LAN, each as "begin" and "end" actions on a running
// cluster. Timings come from the profile: the full run (npm run lan -- --fault X) uses the figures of
// issue #9 (20 s stops and partitions, churn every 5-10 s, 8 days of skew); the short one (npm test) the
// same actions in a few seconds.
import { writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Cluster, ClusterOptions } from './cluster.js'

export const FAULTS = ['kill', 'stop', 'partition', 'loss', 'churn', 'disk-full', 'skew'] as const
export type FaultName = typeof FAULTS[number]

export interface Profile {
  /** how long the fault lasts */
  faultMs: number
  /** restart churn: one random restart every this many ms (min, max) */
  churnEveryMs: [number, number]
  /** publishing before the fault */
  warmupMs: number
  /** a publish still failing at the end of the fault is retried this long */
  publishGraceMs: number
  /** after the fault, what is not everywhere within this is counted as lost */
  convergeTimeoutMs: number
}

export const FULL: Profile = { faultMs: 20_000, churnEveryMs: [5_000, 10_000], warmupMs: 3_000, publishGraceMs: 15_000, convergeTimeoutMs: 60_000 }
export const SHORT: Profile = { faultMs: 3_000, churnEveryMs: [1_000, 1_500], warmupMs: 1_500, publishGraceMs: 5_000, convergeTimeoutMs: 30_000 }

export const DAY_MS = 86_400_000
const SMALL_DISK = 4 * 1024 * 1024

export interface Fault {
  /** what the cluster needs from the start (a small disk, a skewed clock) */
  cluster?: (n: number) => Partial<ClusterOptions>
  describe: (n: number) => string
  /** runs the whole fault; resolves when it has ended (healed, restarted, freed) */
  run: (c: Cluster, p: Profile, note: (s: string) => void) => Promise<void>
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export const FAULT_DEFS: Record<FaultName, Fault> = {
  kill: {
    describe: n => `kill -9 of h0 (publisher and subscriber), restarted half-way; then kill -9 of h${n - 1}, restarted at the end`,
    run: async (c, p, note) => {
      await c.kill9(0); note('h0 killed -9')
      await sleep(p.faultMs / 2)
      c.start(0); note('h0 restarted')
      await c.kill9(c.size - 1); note(`h${c.size - 1} killed -9`)
      await sleep(p.faultMs / 2)
      c.start(c.size - 1); note(`h${c.size - 1} restarted`)
    },
  },
  stop: {
    describe: () => 'SIGSTOP of h1 for the fault time, then SIGCONT',
    run: async (c, p, note) => {
      c.signal(1, 'SIGSTOP'); note('h1 stopped')
      await sleep(p.faultMs)
      c.signal(1, 'SIGCONT'); note('h1 continued')
    },
  },
  partition: {
    describe: n => `hosts h0..h${Math.floor(n / 2) - 1} moved to a second bridge (${Math.floor(n / 2)}|${n - Math.floor(n / 2)} split, links stay up), then healed`,
    run: async (c, p, note) => {
      const side = Array.from({ length: Math.floor(c.size / 2) }, (_, i) => i)
      c.lan.partition(side); note(`partitioned ${side.map(i => `h${i}`).join(',')} from the rest`)
      await sleep(p.faultMs)
      c.lan.heal(); note('healed')
    },
  },
  loss: {
    describe: () => '10% of every packet each host sends dropped (tc htb + classic-BPF `ld rand` filter)',
    run: async (c, p, note) => {
      for (let i = 0; i < c.size; i++) c.lan.setLoss(i, 10)
      note('10% loss on every host')
      await sleep(p.faultMs)
      const drops = Array.from({ length: c.size }, (_, i) => c.lan.lossDrops(i))
      for (let i = 0; i < c.size; i++) c.lan.clearLoss(i)
      note(`loss removed; packets dropped per host: ${drops.join(' ')}`)
    },
  },
  churn: {
    describe: () => 'a random daemon restarted (SIGTERM or kill -9, alternating) every 5-10 s',
    run: async (c, p, note) => {
      const end = Date.now() + p.faultMs
      let k = 0
      for (;;) {
        const [lo, hi] = p.churnEveryMs
        const wait = lo + Math.random() * (hi - lo)
        if (Date.now() + wait > end) break
        await sleep(wait)
        const i = Math.floor(Math.random() * c.size)
        const how = k++ % 2 === 0 ? 'SIGTERM' : 'SIGKILL'
        await c.restart(i, how); note(`h${i} restarted (${how})`)
      }
      await sleep(Math.max(0, end - Date.now()))
    },
  },
  'disk-full': {
    cluster: n => ({ smallDisk: { hosts: [n - 1], bytes: SMALL_DISK } }),
    describe: n => `h${n - 1}'s data dir on a 4 MiB tmpfs, filled to ENOSPC for the fault time, then freed`,
    run: async (c, p, note) => {
      const filler = join(c.dataDir(c.size - 1), 'filler')
      const chunk = Buffer.alloc(64 * 1024)
      let written = 0
      // fill it to the last byte: 64 KiB writes, then smaller ones
      for (let size = chunk.length; size >= 512;) {
        try { writeFileSync(filler, chunk.subarray(0, size), { flag: 'a' }); written += size } catch { size = Math.floor(size / 2) }
      }
      note(`h${c.size - 1}'s 4 MiB volume filled (${(written / 1024).toFixed(0)} KiB of filler)`)
      await sleep(p.faultMs)
      rmSync(filler, { force: true }); note('space freed')
    },
  },
  skew: {
    cluster: () => ({ skewMs: { 0: -8 * DAY_MS, 1: 8 * DAY_MS } }),
    describe: () => 'h0 runs 8 days behind, h1 8 days ahead (retention max-age 7d); every daemon restarted at the end so retention runs',
    run: async (c, p, note) => {
      await sleep(p.faultMs)
      // retention runs at start (and every 30 s): a restart makes every node apply it to what it received
      for (let i = 0; i < c.size; i++) await c.restart(i, 'SIGTERM')
      note('every daemon restarted (retention pass at start)')
    },
  },
}
