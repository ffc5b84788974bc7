// Defects 3 and 4 of issue 10 against the real binary (npm run build first): terminal-safe sub/history with
// exact --json and --raw, long topics, unknown topics, GOSSIPD_PEERS checks, sub's exit code when the daemon
// dies, and `status --wait` right after `start ... &`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startDaemon, gossipd, spawnGossipd, cleanup, tmp, SAFE_ARGS, type Daemon } from './daemon-util.js'
import { GossipClient } from '../src/client/client.js'
import { waitFor } from './helpers.js'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

let d: Daemon
let client: GossipClient
beforeAll(async () => {
  d = await startDaemon(tmp())
  client = new GossipClient({ url: d.url, token: d.token })
})
afterAll(async () => { await cleanup() })

const data = (): string[] => ['--data', d.dataDir]
const hostile = 'hi\u001b]0;pwned\u0007\u001b[2J\r\nforged line'
// eslint-disable-next-line no-control-regex -- looking for control characters
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

describe('terminal escape injection (CLI)', () => {
  it('history and sub escape control characters; --json and --raw are exact', async () => {
    await client.publish('esc', hostile)
    const human = await gossipd(['history', 'esc', ...data()])
    expect(human.code).toBe(0)
    expect(human.stdout).not.toMatch(CONTROL)
    expect(human.stdout.trim().split('\n')).toHaveLength(1)
    expect(human.stdout).toContain('\\x1b]0;pwned\\x07')
    const raw = await gossipd(['history', 'esc', '--raw', ...data()])
    expect(raw.stdout).toBe(hostile + '\n')
    const json = await gossipd(['history', 'esc', '--json', ...data()])
    expect(JSON.parse(json.stdout).payload).toBe(hostile)
    const sub = await gossipd(['sub', 'esc', '--from', 'beginning', '-n', '1', ...data()])
    expect(sub.code).toBe(0)
    expect(sub.stdout).not.toMatch(CONTROL)
    const subRaw = await gossipd(['sub', 'esc', '--from', 'beginning', '-n', '1', '--raw', ...data()])
    expect(subRaw.stdout).toBe(hostile + '\n')
  })
})

describe('bad input: the API, the CLI and the config', () => {
  it('topics of 101-128 characters work through the API, / included', async () => {
    for (const topic of ['t'.repeat(101), 'a/'.repeat(63) + 'zz', 'x'.repeat(128)]) {
      expect(topic.length).toBeGreaterThan(100)
      const r = await client.publish(topic, 'long')
      expect(r.topic).toBe(topic)
      expect((await client.history(topic)).map(m => m.payload)).toEqual(['long'])
    }
    await expect(client.publish('y'.repeat(129), 'x')).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC' })
  })

  it('history and stream of a topic the daemon does not keep answer 404; stream with join=true joins', async () => {
    await expect(client.history('never-joined')).rejects.toMatchObject({ status: 404, code: 'NO_SUCH_TOPIC' })
    await expect(client.stream('never-joined')).rejects.toMatchObject({ status: 404, code: 'NO_SUCH_TOPIC' })
    expect((await client.topics()).map(t => t.topic)).not.toContain('never-joined')
    const s = await client.stream('joined-by-stream', { join: true })
    s.close()
    expect((await client.topics()).map(t => t.topic)).toContain('joined-by-stream')
    const h = await gossipd(['history', 'never-joined', ...data()])
    expect(h.code).toBe(5)
  })

  it('GOSSIPD_PEERS values that pass the format check but are invalid exit 2 naming the setting', async () => {
    const id = d.peerId
    for (const [bad, why] of [
      [`/ip4/127.0.0.1/tcp/7000/p2p/${id.slice(0, -3)}`, /peer id/],
      [`/ip4/999.1.1.1/tcp/7000/p2p/${id}`, /999\.1\.1\.1/],
      [`/ip4/127.0.0.1/tcp/70000/p2p/${id}`, /70000/],
    ] as const) {
      const r = await gossipd(['start', '--data', tmp(), ...SAFE_ARGS], { env: { GOSSIPD_PEERS: bad } })
      expect(r.code, bad).toBe(2)
      expect(r.stderr).toContain('GOSSIPD_PEERS')
      expect(r.stderr).toMatch(why)
    }
  })

  it('sub exits 3 when the daemon is killed under it', async () => {
    const other = await startDaemon(tmp())
    const sub = spawnGossipd(['sub', 'k', '--data', other.dataDir])
    // the stream joins the topic when it opens
    await waitFor('sub subscribed', async () => (await new GossipClient({ url: other.url, token: other.token }).topics()).some(t => t.topic === 'k'))
    await new Promise(resolve => setTimeout(resolve, 300))
    other.proc.kill('SIGKILL')
    expect(await sub.exited).toBe(3)
  })

  it('status --wait waits for a daemon started in the background', async () => {
    const dir = tmp()
    spawnGossipd(['start', '--data', dir, ...SAFE_ARGS])
    const r = await gossipd(['status', '--addrs', '--wait', '20s', '--data', dir])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    const bad = await gossipd(['status', '--wait', 'soon', '--data', dir])
    expect(bad.code).toBe(2)
  })

  it('status --wait outlasts a stale api.json whose token the restarted daemon refuses (a kill -9, then a start)', async () => {
    // the old api.json names the address the new daemon answers on, with the old token, until the new one
    // replaces it when ready: a 401 then is "not yet", not "wrong token"
    const dir = tmp()
    const info = JSON.parse(readFileSync(join(d.dataDir, 'api.json'), 'utf8'))
    writeFileSync(join(dir, 'api.json'), JSON.stringify({ ...info, token: 'the-token-of-a-killed-daemon' }), { mode: 0o600 })
    const waiting = gossipd(['status', '--wait', '20s', '--data', dir])
    await new Promise(resolve => setTimeout(resolve, 1_000))
    writeFileSync(join(dir, 'api.json'), JSON.stringify(info), { mode: 0o600 })
    const r = await waiting
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // without --wait the same stale file is an error at once, as before
    writeFileSync(join(dir, 'api.json'), JSON.stringify({ ...info, token: 'the-token-of-a-killed-daemon' }), { mode: 0o600 })
    const now = await gossipd(['status', '--data', dir])
    expect(now.code).toBe(4)
    expect(now.stderr).toMatch(/wrong token/)
  })
})
