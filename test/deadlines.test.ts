// Every wait has a deadline, and the deadline fires even when the garbage collector runs meanwhile. On
// Node 20, AbortSignal.any([signal, AbortSignal.timeout(ms)]) leaves the timeout signal reachable from
// nothing (the timer holds it weakly, the composite does not hold its sources), so a collection takes it
// and the wait never ends (nodejs/node#57736). Found by a pull from a silent peer that was still waiting
// after 45 s on a 30 s frame timeout and a 120 s pull deadline. These tests collect garbage every 10 ms.
import { it, expect, afterEach } from 'vitest'
import v8 from 'node:v8'
import vm from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import { deadline } from '../src/core/deadline.js'
import { SyncStallError } from '../src/core/sync/protocol.js'
import { createApi } from '../src/daemon/api.js'
import { startNode, removeTempDirs, schedulerWithMutePeer } from './helpers.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  removeTempDirs()
})

/** collect garbage every 10 ms until the test ends */
function collecting (): void {
  const t = setInterval(gc, 10)
  cleanups.push(() => clearInterval(t))
}

/** what `p` settled to within `ms`, or 'still waiting' */
async function within<T> (ms: number, p: Promise<T>): Promise<T | Error | 'still waiting'> {
  return await Promise.race([p.catch((err: Error) => err), sleep(ms).then(() => 'still waiting' as const)])
}

it('deadline(): fires through garbage collections, follows its parent, and clear() stops it', async () => {
  collecting()
  const lone = deadline(100)
  const parent = new AbortController()
  const child = deadline(60_000, parent.signal)
  const cleared = deadline(100)
  cleared.clear()
  const events: string[] = []
  lone.signal.addEventListener('abort', () => events.push('lone'))
  await sleep(50)
  parent.abort(new Error('stop'))
  await sleep(300)
  expect(lone.signal.aborted).toBe(true)
  expect(lone.expired).toBe(true)
  expect((lone.signal.reason as Error).name).toBe('TimeoutError')
  expect(events).toEqual(['lone'])
  expect(child.signal.aborted).toBe(true)
  expect(child.expired).toBe(false)
  expect((child.signal.reason as Error).message).toBe('stop')
  expect(cleared.signal.aborted).toBe(false)
})

it('a pull whose peer never answers ends at its deadline, garbage collections or not', async () => {
  collecting()
  const { scheduler, peer, close } = await schedulerWithMutePeer({ deadlineMs: 300 })
  cleanups.push(close)
  const outcome = await within(3_000, scheduler.syncWith(peer))
  expect(outcome).toBeInstanceOf(SyncStallError)
  expect((outcome as Error).message).toMatch(/deadline/)
})

it('a publish through the API waits for a behind store no longer than publishWaitMs, garbage collections or not', async () => {
  collecting()
  // a write queue limit of 0: every publish waits, so only the deadline ends it
  const stuck = await startNode({ maxPendingWrites: 0 })
  const api = await createApi({ node: stuck, token: 't0ken', publishWaitMs: 200 })
  cleanups.push(async () => { await api.close(); await stuck.stop() })
  const res = await within(3_000, fetch(`${api.url}/v1/topics/held/messages`, {
    method: 'POST',
    headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
    body: JSON.stringify({ payload: 'x' }),
  }))
  expect(res).toBeInstanceOf(Response)
  expect((res as Response).status).toBe(503)
})

it('many publishes waiting at once on the API are no listener leak warning', async () => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message) }
  process.on('warning', onWarning)
  cleanups.push(() => process.off('warning', onWarning))
  // a write queue limit of 0: every publish waits, each with a deadline that follows the API's closed signal
  const stuck = await startNode({ maxPendingWrites: 0 })
  const api = await createApi({ node: stuck, token: 't0ken', publishWaitMs: 300 })
  cleanups.push(async () => { await api.close(); await stuck.stop() })
  const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${api.url}/v1/topics/held/messages`, {
    method: 'POST',
    headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
    body: JSON.stringify({ payload: 'x' }),
  })).status))
  expect(statuses.every(s => s === 503)).toBe(true)
  // warnings are emitted on the next tick
  await sleep(50)
  expect(warnings).toEqual([])
})
