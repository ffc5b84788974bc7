// Bounded connections at scale: 12 real daemons, each in its own network namespace on one bridge, mDNS
// only, with a low connection bound (3/5) so the bound matters at this size. Every node must stay within
// the high mark and every message must reach every node. Root only (network namespaces).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { describeAsRoot } from './helpers.js'
import { runScale } from '../src/bench/scenarios/scale.js'

const BIN = fileURLToPath(new URL('../bin/gossipd.js', import.meta.url))
const DIST_RUN = fileURLToPath(new URL('../dist/bench/scale-run.js', import.meta.url))

describeAsRoot('12 daemons on a LAN with bounded connections', 'network namespaces', () => {
  it('keeps connections per node within the high mark and delivers every message everywhere', async () => {
    expect(existsSync(BIN) && existsSync(DIST_RUN), 'run `npm run build` first').toBe(true)
    const r = await runScale(12, { low: 3, high: 5, idleSeconds: 3, settleSeconds: 0, messages: 30, ratePerSec: 10, catchup: 0, waitMs: 40_000 })
    expect(r.error).toBeUndefined()
    expect(r.connectionsMax).toBeLessThanOrEqual(5)
    expect(r.connectionsMean).toBeGreaterThanOrEqual(2)
    expect(r.delivered).toBe(30)
  }, 90_000)
})
