// `gossipd monitor` and `gossipd top` against a real daemon (npm run build first: the binary runs dist/).
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startDaemon, gossipd, spawnGossipd, cleanup, tmp, type Daemon } from './daemon-util.js'
import { waitFor } from './helpers.js'

let d: Daemon
beforeAll(async () => { d = await startDaemon(tmp()) })
afterAll(async () => { await cleanup() })

describe('monitor and top', () => {
  it('monitor streams debug lines from an info daemon, live', async () => {
    const mon = spawnGossipd(['monitor', '--data', d.dataDir, '-L', 'debug'])
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect((await gossipd(['pub', 'watched', 'x', '--data', d.dataDir])).code).toBe(0)
    await waitFor('the publish request in the monitor output', () => /DEBUG api request .*url=\/v1\/topics\/watched\/messages status=201/.test(mon.stdout()), 10_000)
    // the daemon's own stderr stays at info
    expect(d.stderr()).not.toContain('"msg":"api request"')
    mon.proc.kill('SIGINT')
    expect(await mon.exited).toBe(0)
  })

  it('top prints topics with rates and peers', async () => {
    const r = await gossipd(['top', '-n', '2', '-i', '0.2', '--data', d.dataDir])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/TOPIC\s+MSG\/S\s+AVG\/S \(60s\)/)
    expect(r.stdout).toMatch(/\nwatched\s+\d+\s+[\d.]+\s+\S+\s+1\s+0\s+0\n/)
    expect(r.stdout.match(/^gossipd /gm)).toHaveLength(2)
  })
})
