// The CLI verbs against a real daemon process (npm run build first: the binary runs dist/).
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { writeFileSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import Database from 'better-sqlite3'
import { startDaemon, stopDaemon, gossipd, spawnGossipd, cleanup, tmp, type Daemon } from './daemon-util.js'
import { waitFor } from './helpers.js'

let d: Daemon
beforeAll(async () => { d = await startDaemon(tmp()) })
afterAll(async () => { await cleanup() })

const data = (): string[] => ['--data', d.dataDir]

describe('gossipd CLI against a running daemon', () => {
  it('pub then history shows the message, in human and JSON form', async () => {
    const pub = await gossipd(['pub', 'chat', 'hello world', ...data()])
    expect(pub.stderr).toBe('')
    expect(pub.code).toBe(0)
    expect(pub.stdout).toMatch(/^published to chat: seq 1, offset \d+\n$/)

    const hist = await gossipd(['history', 'chat', ...data()])
    expect(hist.code).toBe(0)
    expect(hist.stdout).toContain('hello world')
    expect(hist.stdout).toContain('#1')

    const json = await gossipd(['history', 'chat', '--json', ...data()])
    expect(json.code).toBe(0)
    const rows = json.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ topic: 'chat', seq: 1, payload: 'hello world', encoding: 'utf8', origin: d.peerId })
  })

  it('pub without a message publishes each stdin line, in order; --json gives one result per line', async () => {
    const r = await gossipd(['pub', 'lines', '--json', ...data()], { input: 'one\ntwo\n\nthree\n' })
    expect(r.code).toBe(0)
    const acks = r.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(acks.map(a => a.seq)).toEqual([1, 2, 3])
    const hist = await gossipd(['history', 'lines', '--json', ...data()])
    expect(hist.stdout.trim().split('\n').map(l => JSON.parse(l).payload)).toEqual(['one', 'two', 'three'])
  })

  it('pub --base64 refuses text that is not base64 (exit 2) and publishes nothing; canonical base64 is published exactly', async () => {
    for (const bad of ['hello world!!', '%%%%', 'abcde', 'a+_b', 'aGl=']) {
      const r = await gossipd(['pub', 'b64', '--base64', bad, ...data()])
      expect(r.code, bad).toBe(2)
      expect(r.stderr, bad).toContain('not valid base64')
      expect(r.stdout, bad).toBe('')
    }
    const json = await gossipd(['pub', 'b64', '--base64', '%%%%', '--json', ...data()])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stderr).error.code).toBe('BAD_PAYLOAD')
    expect((await gossipd(['history', 'b64', ...data()])).code).toBe(5)

    // stdin: the lines before a bad one are published, the bad one and everything after it are not
    const lines = await gossipd(['pub', 'b64', '--base64', '--json', ...data()], { input: 'aGk=\n\nb2s\nnot base64!\naGk=\n' })
    expect(lines.code).toBe(2)
    expect(lines.stdout.trim().split('\n').map(l => JSON.parse(l).seq)).toEqual([1, 2])
    expect(JSON.parse(lines.stderr).error).toEqual({ code: 'BAD_PAYLOAD', message: 'stdin line 4 is not valid base64 (standard alphabet A-Z a-z 0-9 + /, = padding optional): it and the lines after it were not published (2 published before it)' })
    const hist = await gossipd(['history', 'b64', '--json', ...data()])
    expect(hist.stdout.trim().split('\n').map(l => JSON.parse(l).payload)).toEqual(['hi', 'ok'])
  })

  it('status, topics and peers report the daemon', async () => {
    const s = await gossipd(['status', '--json', ...data()])
    expect(s.code).toBe(0)
    const status = JSON.parse(s.stdout)
    expect(status.peerId).toBe(d.peerId)
    expect(status.api).toBe(d.url)
    expect(status.mdns).toBe(false)
    const human = await gossipd(['status', ...data()])
    expect(human.stdout).toContain(d.peerId)

    await gossipd(['pub', 'listed', 'x', ...data()])
    const t = await gossipd(['topics', '--json', ...data()])
    expect(t.code).toBe(0)
    expect(JSON.parse(t.stdout).map((x: { topic: string }) => x.topic)).toContain('listed')
    const th = await gossipd(['topics', ...data()])
    expect(th.stdout).toMatch(/^TOPIC\s+MESSAGES/)

    const p = await gossipd(['peers', '--json', ...data()])
    expect(p.code).toBe(0)
    expect(JSON.parse(p.stdout)).toEqual([])
    expect((await gossipd(['peers', ...data()])).stdout).toContain('no peers connected')
  })

  it('sub ends with exit 3 when the daemon leaves the topic, and says so (not only "it stopped?")', async () => {
    await gossipd(['join', 'leaving', ...data()])
    const sub = spawnGossipd(['sub', 'leaving', ...data()])
    await waitFor('sub connected', async () => JSON.parse((await gossipd(['status', '--json', ...data()])).stdout).consumers >= 1)
    expect((await gossipd(['leave', 'leaving', ...data()])).code).toBe(0)
    expect(await sub.exited).toBe(3)
    expect(sub.stderr()).toMatch(/ended the stream \(it stopped, or left the topic\)/)
  })

  it('--api and --token reach the daemon without a data dir', async () => {
    const r = await gossipd(['status', '--json', '--api', d.url, '--token', d.token])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).peerId).toBe(d.peerId)
    const env = await gossipd(['status', '--json'], { env: { GOSSIPD_API: d.url.replace('http://', ''), GOSSIPD_TOKEN: d.token } })
    expect(env.code).toBe(0)
  })

  it('sub prints live messages; with --consumer it acks, and a second run resumes after them', async () => {
    const sub = spawnGossipd(['sub', 'live', '--json', '--from', 'beginning', '-n', '2', ...data()])
    // the daemon counts the open stream as a consumer once the subscription is in place
    await waitFor('sub connected', async () => JSON.parse((await gossipd(['status', '--json', ...data()])).stdout).consumers >= 1)
    await gossipd(['pub', 'live', 'first', ...data()])
    await gossipd(['pub', 'live', 'second', ...data()])
    expect(await sub.exited).toBe(0)
    expect(sub.stdout().trim().split('\n').map(l => JSON.parse(l).payload)).toEqual(['first', 'second'])

    const c1 = await gossipd(['sub', 'live', '--consumer', 'worker', '-n', '1', '--json', ...data()])
    expect(c1.code).toBe(0)
    expect(JSON.parse(c1.stdout).payload).toBe('first')
    // acked "first": the same consumer now starts at "second"
    const c2 = await gossipd(['sub', 'live', '--consumer', 'worker', '-n', '1', '--json', ...data()])
    expect(c2.code).toBe(0)
    expect(JSON.parse(c2.stdout).payload).toBe('second')
  })

  it('exit codes: bad topic 5, wrong token 4, usage 2, --help 0', async () => {
    const bad = await gossipd(['pub', 'bad topic', 'x', ...data()])
    expect(bad.code).toBe(5)
    expect(bad.stderr).toContain('invalid topic name')
    const badJson = await gossipd(['pub', '.hidden', 'x', '--json', ...data()])
    expect(badJson.code).toBe(5)
    expect(JSON.parse(badJson.stderr).error.code).toBe('BAD_TOPIC')

    // a topic too long for the daemon's router: still BAD_TOPIC, not an HTTP status line
    const long = await gossipd(['pub', 'a'.repeat(600), 'hi', ...data()])
    expect(long.code).toBe(5)
    expect(long.stderr).toContain('invalid topic name')

    const tok = await gossipd(['status', '--token', 'nope', ...data()])
    expect(tok.code).toBe(4)
    expect(tok.stderr).toContain('wrong token')

    const usage = await gossipd(['history'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('missing required argument')
    const unknown = await gossipd(['frobnicate'])
    expect(unknown.code).toBe(2)

    const help = await gossipd(['sub', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--consumer')
  })

  it('top refuses a -n or -i that is not a number (exit 2, nothing printed)', async () => {
    for (const [args, flag] of [[['-n', 'abc'], '--iterations'], [['-n', '0'], '--iterations'], [['-n', '1.5'], '--iterations'], [['-i', 'abc'], '--interval'], [['-i', '0'], '--interval'], [['-i', '-1'], '--interval']] as const) {
      const top = await gossipd(['top', ...args, ...data()])
      expect(top.code, args.join(' ')).toBe(2)
      expect(top.stderr, args.join(' ')).toContain(flag)
      expect(top.stdout, args.join(' ')).toBe('')
    }
    const top = await gossipd(['top', '-n', '1', '-i', '0.5', '--json', ...data()])
    expect(top.code).toBe(0)
    expect(JSON.parse(top.stdout).self.peerId).toBe(d.peerId)
  })

  it('sub -n and history --limit out of range are exit 2 naming the option, before anything is asked', async () => {
    // sub -n 0 waited for a message and printed it; history --limit 0 was the daemon's 400 (exit 5)
    for (const args of [['sub', 'chat', '-n', '0'], ['history', 'chat', '--limit', '0'], ['history', 'chat', '--limit', '10001'], ['history', 'chat', '--after', '9'.repeat(16)]]) {
      const r = await gossipd([...args, ...data()], { timeoutMs: 10_000 })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toContain(args[2])
      expect(r.stdout, args.join(' ')).toBe('')
    }
  })

  it('says so clearly when no daemon is running', async () => {
    const empty = tmp()
    const r = await gossipd(['status', '--data', empty])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('no gossipd daemon running')
    expect(r.stderr).toContain('gossipd start')

    // a stale api.json (daemon gone): connection refused
    const port = await closedPort()
    writeFileSync(join(empty, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, token: 't' }))
    const stale = await gossipd(['pub', 'chat', 'x', '--data', empty])
    expect(stale.code).toBe(3)
    expect(stale.stderr).toBe(`gossipd: no gossipd daemon running at http://127.0.0.1:${port} (start one with: gossipd start)\n`)
  })
})

/** A loopback port nothing listens on (bound, then released). */
async function closedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

describe('status with forked streams recorded in the data dir', () => {
  it('lists the blocked streams (escaped), and leaves out a damaged row', async () => {
    const dir = tmp()
    // a first start creates the schema; the forks table then gets one real row and two damaged ones
    const first = await startDaemon(dir)
    await stopDaemon(first)
    const db = new Database(join(dir, 'queue.sqlite'))
    const row = db.prepare('INSERT INTO forks (topic, origin, seq, held, other, peer, how, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    row.run('chat', '12D3KooWForkedOriginAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 3, 'aa', 'bb', 'p', 'same seq', 1)
    row.run('evil', '12D3KooW\u001b[31mred', 'not a seq', 'aa', 'bb', 'p', 'same seq', 2)
    row.run('evil2', '\u001b]0;title\u0007', 5, 'aa', 'bb', 'p', 'prev', 3)
    db.close()
    const again = await startDaemon(dir)
    try {
      const human = await gossipd(['status', '--data', dir])
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(/forks\s+2 streams blocked: chat …AAAAAAAA from #3, evil2 \S* from #5/)
      expect(human.stdout).not.toContain('\u001b')
    } finally { await stopDaemon(again) }
  })
})

describe('keygen', () => {
  it('writes a 0600 key; refuses to overwrite; a directory that does not exist is exit 2 naming it, and is not created', async () => {
    const dir = tmp()
    const file = join(dir, 'swarm.key')
    const ok = await gossipd(['keygen', file])
    expect(ok.code).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const again = await gossipd(['keygen', file])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain(`cannot write ${file}: it exists`)
    const missing = join(dir, 'no-such-dir', 'swarm.key')
    const r = await gossipd(['keygen', missing])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`gossipd: cannot write ${missing}: the directory ${join(dir, 'no-such-dir')} does not exist (keygen does not create directories: create it first, e.g. mkdir -p ${join(dir, 'no-such-dir')})\n`)
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false)
  })
})
