// Issue 11: an idle daemon's cost must stay small, because a LAN multiplies it by every machine (and a test
// host by every daemon). Counted in wake-ups, not time: each time the main thread blocks in epoll and is
// woken is one voluntary context switch. prom-client's default 10 ms event-loop-lag timer alone woke it
// about 200 times a second (seen: ~230/s before, ~30/s at 100 ms); sampled once a second, and with the peer
// keeper's timer no longer at a fixed 250 ms, it woke ~6 times a second (14/s with the 100 ms sampler);
// with gossipsub's heartbeat, its score upkeep and containment together on whole seconds (tick.ts), ~3.4.
import { it, expect, afterAll } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaemon, cleanup, tmp } from './daemon-util.js'

afterAll(async () => { await cleanup() })

function wakeups (pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8')
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)![1])
}

it.runIf(process.platform === 'linux')('an idle daemon with one topic wakes its main thread fewer than 5 times a second', async () => {
  const d = await startDaemon(join(tmp(), 'data'), ['--topic', 't'])
  const pid = d.proc.pid!
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const before = wakeups(pid)
  await new Promise(resolve => setTimeout(resolve, 10_000))
  const perSecond = (wakeups(pid) - before) / 10
  expect(perSecond).toBeGreaterThan(0)
  console.log(`idle daemon main-thread wake-ups: ${perSecond}/s`)
  expect(perSecond).toBeLessThan(5)
}, 30_000)
