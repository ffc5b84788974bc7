// The daemon as a process: data-dir lock, config errors, graceful stop, kill -9 durability, two daemons.
// Every daemon listens on 127.0.0.1 only with mDNS off. npm run build first: the binary runs dist/.
import { describe, it, expect, afterEach } from 'vitest'
import { writeFileSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { join } from 'node:path'
import { startDaemon, stopDaemon, gossipd, spawnGossipd, cleanup, tmp, SAFE_ARGS } from './daemon-util.js'
import { GossipClient } from '../src/client/client.js'
import { waitFor } from './helpers.js'

afterEach(async () => { await cleanup() })

/** GET over a unix socket with a bearer token */
async function overSocket (socketPath: string, path: string, token: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'anything', authorization: `Bearer ${token}` } }, res => {
      let body = ''
      res.on('data', d => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** a socket file nothing listens on: a process that bound it and was killed with SIGKILL */
async function staleSocket (path: string): Promise<void> {
  const p = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' })
  await new Promise(resolve => p.once('exit', resolve))
  expect(statSync(path).isSocket()).toBe(true)
}

describe('gossipd start', () => {
  it('refuses a data dir that another daemon holds, with a clear message and exit code 10', async () => {
    const dir = tmp()
    const first = await startDaemon(dir)
    const second = await gossipd(['start', '--data', dir, ...SAFE_ARGS])
    expect(second.code).toBe(10)
    expect(second.stderr).toContain(`data dir ${dir} is in use by another gossipd process (pid ${first.proc.pid}`)
    // the first daemon is unaffected and its api.json still points at it
    const s = await gossipd(['status', '--json', '--data', dir])
    expect(s.code).toBe(0)
    expect(JSON.parse(s.stdout).pid).toBe(first.proc.pid)
  })

  it('stops cleanly on SIGTERM: exit 0, api.json removed, and a restart keeps the peer id and messages', async () => {
    const dir = tmp()
    const d = await startDaemon(dir)
    // the token file and the identity are private to the user
    expect(statSync(join(dir, 'api.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'identity.key')).mode & 0o777).toBe(0o600)
    expect((await gossipd(['pub', 'keep', 'before restart', '--data', dir])).code).toBe(0)
    expect(await stopDaemon(d, 'SIGTERM')).toBe(0)
    expect(existsSync(join(dir, 'api.json'))).toBe(false)
    expect(d.stderr()).toContain('gossipd stopped')
    const again = await startDaemon(dir)
    expect(again.peerId).toBe(d.peerId)
    const h = await gossipd(['history', 'keep', '--json', '--data', dir])
    expect(JSON.parse(h.stdout).payload).toBe('before restart')
  })

  it('a second signal during shutdown exits 130 at once; the data dir stays consistent: a restart opens it with the messages published before', async () => {
    // a connected peer: stopping the node then waits on the network (libp2p closing the connection), so the shutdown
    // is still under way when the second signal is read. A daemon with nothing to wait on stops within one turn of
    // its event loop and never reads a signal sent meanwhile: that exit is a clean 0
    const other = await startDaemon(tmp(), ['--topic', 'keep'])
    const dir = tmp()
    const d = await startDaemon(dir, ['--topic', 'keep', '--peer', other.addr])
    const client = new GossipClient({ url: d.url, token: d.token })
    await waitFor('the peer connected', async () => (await client.peers()).length > 0)
    for (let i = 0; i < 5; i++) expect((await gossipd(['pub', 'keep', `before signals ${i}`, '--data', dir])).code).toBe(0)
    // both signals pending at once, as from a Ctrl-C pressed twice in a row: stopped, the daemon cannot handle the
    // first before the second arrives (else whether the second lands during the shutdown is a matter of timing)
    d.proc.kill('SIGSTOP')
    // really stopped before the two are sent: a SIGCONT that overtook the stop would cancel it, and the two
    // signals could then be read apart (a shutdown done before the second: exit 0)
    await waitFor('the daemon stopped by SIGSTOP', () => readFileSync(`/proc/${d.proc.pid ?? 0}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('T'))
    d.proc.kill('SIGTERM')
    d.proc.kill('SIGINT')
    d.proc.kill('SIGCONT')
    expect(await d.exited).toBe(130)
    expect(d.stderr()).toContain('second signal: exiting now')
    expect(d.stderr()).not.toContain('gossipd stopped')
    // api.json is left behind (the shutdown never got that far): clients say no daemon runs there
    expect((await gossipd(['status', '--data', dir])).code).toBe(3)
    const again = await startDaemon(dir, ['--topic', 'keep'])
    expect(again.peerId).toBe(d.peerId)
    const h = await gossipd(['history', 'keep', '--json', '--data', dir])
    expect(h.code).toBe(0)
    expect(h.stdout.trim().split('\n').map(l => JSON.parse(l).payload)).toEqual([0, 1, 2, 3, 4].map(i => `before signals ${i}`))
    expect(await stopDaemon(again)).toBe(0)
  })

  it('a SIGTERM sent the instant the ready line appears gets the clean shutdown: exit 0, api.json removed', async () => {
    // a supervisor that stops the daemon as soon as it has announced itself: the handlers must be in place by then
    const dir = tmp()
    const { proc, stdout, stderr, exited } = spawnGossipd(['start', '--data', dir, ...SAFE_ARGS])
    let sent = false
    proc.stdout!.on('data', () => {
      if (!sent && stdout().includes('gossipd ready')) { sent = true; proc.kill('SIGTERM') }
    })
    const code = await exited
    expect(sent).toBe(true)
    expect({ code, signal: proc.signalCode }).toEqual({ code: 0, signal: null })
    expect(stderr()).toContain('gossipd stopped')
    expect(existsSync(join(dir, 'api.json'))).toBe(false)
  })

  it('kill -9 after acked publishes loses none of them', async () => {
    const dir = tmp()
    const d = await startDaemon(dir)
    const client = new GossipClient({ url: d.url, token: d.token })
    const acked: number[] = []
    // concurrent publishes, so some are still in flight when the process dies
    const pubs = Array.from({ length: 200 }, async (_, i) => {
      const r = await client.publish('durable', `m${i}`)
      acked.push(r.seq)
    })
    await Promise.all(pubs.slice(0, 150))
    d.proc.kill('SIGKILL')
    await Promise.allSettled(pubs)
    expect(await d.exited).toBe(null)
    expect(acked.length).toBeGreaterThanOrEqual(150)

    const again = await startDaemon(dir)
    const h = await gossipd(['history', 'durable', '--json', '--limit', '1000', '--data', dir])
    expect(h.code).toBe(0)
    const held = new Set(h.stdout.trim().split('\n').map(l => JSON.parse(l).seq))
    for (const seq of acked) expect(held.has(seq)).toBe(true)
    expect(again.peerId).toBe(d.peerId)
  })

  it('two daemons with a static peer: publish on one, sub on the other receives it', async () => {
    const a = await startDaemon(tmp(), ['--topic', 'news'])
    const b = await startDaemon(tmp(), ['--topic', 'news', '--peer', a.addr])
    const sub = spawnGossipd(['sub', 'news', '--from', 'beginning', '-n', '2', '--json', '--data', b.dataDir])
    await waitFor('b connected to a', async () => JSON.parse((await gossipd(['peers', '--json', '--data', b.dataDir])).stdout).length >= 1)
    expect((await gossipd(['pub', 'news', 'from a', '--data', a.dataDir])).code).toBe(0)
    expect((await gossipd(['pub', 'news', 'again from a', '--data', a.dataDir])).code).toBe(0)
    expect(await sub.exited).toBe(0)
    const got = sub.stdout().trim().split('\n').map(l => JSON.parse(l))
    expect(got.map(m => m.payload)).toEqual(['from a', 'again from a'])
    expect(got.every(m => m.origin === a.peerId)).toBe(true)
    const peers = JSON.parse((await gossipd(['peers', '--json', '--data', a.dataDir])).stdout)
    expect(peers.map((p: { id: string }) => p.id)).toContain(b.peerId)
  })

  it('refuses an API address in use with exit code 11', async () => {
    const a = await startDaemon(tmp())
    const port = new URL(a.url).port
    const r = await gossipd(['start', '--data', tmp(), '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${port}`])
    expect(r.code).toBe(11)
    expect(r.stderr).toContain(`API address 127.0.0.1:${port} is in use`)
  })

  it('refuses a listen address in use with exit code 11, suggesting the same host on another port', async () => {
    const a = await startDaemon(tmp())
    const port = /\/tcp\/(\d+)/.exec(a.addr)![1]
    const r = await gossipd(['start', '--data', tmp(), '--no-mdns', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', '127.0.0.1:0'])
    expect(r.code).toBe(11)
    expect(r.stderr).toContain(`cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use`)
    // (it suggested /ip4/0.0.0.0/tcp/PORT, which would have opened the daemon to the network)
    expect(r.stderr).toContain('pick another port with --listen /ip4/127.0.0.1/tcp/PORT')
  })

  it('refuses an --api-socket another daemon serves (exit 11, its socket left alone); a stale socket file is replaced', async () => {
    const sock = join(tmp('wtb-'), 's.sock')
    const e = await startDaemon(tmp('wtb-'), ['--api-socket', sock])
    const f = await gossipd(['start', '--data', tmp('wtb-'), ...SAFE_ARGS, '--api-socket', sock], { timeoutMs: 15_000 })
    expect(f.code).toBe(11)
    expect(f.stderr).toContain(`API socket ${sock} is in use`)
    // E's clients still reach E through it
    const s = await overSocket(sock, '/v1/status', e.token)
    expect(s.status).toBe(200)
    expect(JSON.parse(s.body).pid).toBe(e.proc.pid)
    expect(await stopDaemon(e)).toBe(0)
    // nothing listens on a socket file left by a killed process: the next daemon takes the path over
    await staleSocket(sock)
    const g = await startDaemon(tmp('wtb-'), ['--api-socket', sock])
    expect((await overSocket(sock, '/v1/status', g.token)).status).toBe(200)
    // and a path that is not a socket is never removed
    const plain = join(tmp('wtb-'), 'not-a-socket')
    writeFileSync(plain, 'keep me')
    const h = await gossipd(['start', '--data', tmp('wtb-'), ...SAFE_ARGS, '--api-socket', plain], { timeoutMs: 15_000 })
    expect(h.code).not.toBe(0)
    expect(h.stderr).toContain('is not a socket')
    expect(statSync(plain).isFile()).toBe(true)
  })
})

describe('gossipd start: configuration errors name the key and exit 2', () => {
  const start = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stderr: string }> =>
    await gossipd(['start', '--data', tmp(), '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', ...args], { env, timeoutMs: 10_000 })

  it('config file key', async () => {
    const f = join(tmp(), 'bad.json')
    writeFileSync(f, '{\n  // comments are fine\n  "retention": { "maxAge": "forever" },\n}\n')
    const r = await start(['--config', f])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${f}: retention.maxAge: must be a duration`)
  })

  it('unknown config key', async () => {
    const f = join(tmp(), 'typo.json')
    writeFileSync(f, JSON.stringify({ topic: ['a'] }))
    const r = await start(['--config', f])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('topic: unknown key')
  })

  it('environment variable', async () => {
    const r = await start([], { GOSSIPD_LOG_LEVEL: 'loud' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('GOSSIPD_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent, got "loud"')
    const r2 = await start([], { GOSSIPD_PEERS: '/ip4/127.0.0.1/tcp/4001' })
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain('GOSSIPD_PEERS[0]: must end with /p2p/<peer id>')
  })

  it('flag', async () => {
    const r = await start(['--topic', 'ok', '--topic', '/bad'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--topic[1]: invalid topic name "/bad"')
    const r2 = await start(['--max-payload', 'lots'])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain('--max-payload: must be a size')
  })

  it('--api-socket over the platform limit for a unix socket path: exit 2 naming it, nothing created', async () => {
    const limit = process.platform === 'linux' ? 107 : 103
    const dir = tmp('wtb-')
    const long = join(dir, 's'.repeat(limit + 9 - dir.length))
    const r = await start(['--api-socket', long])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`--api-socket: ${long} is ${limit + 10} bytes, over the ${limit}-byte limit`)
    expect(readdirSync(dir)).toEqual([])
  })

  it('--api on a port fetch refuses: exit 2 saying why', async () => {
    // start() passes --api 127.0.0.1:0 first; the later flag wins
    const r = await start(['--api', '127.0.0.1:6000'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--api: port 6000 is blocked by fetch')
  })

  it('--data naming a regular file (or a path through one): exit 2 naming --data and why (it was exit 1: "cannot create data dir …: EEXIST")', async () => {
    const f = join(tmp(), 'a-file')
    writeFileSync(f, 'not a dir')
    const r = await gossipd(['start', '--data', f, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { timeoutMs: 10_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`invalid configuration: --data: ${f} exists and is not a directory`)
    const r2 = await gossipd(['start', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { env: { GOSSIPD_DATA: join(f, 'sub') }, timeoutMs: 10_000 })
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain(`GOSSIPD_DATA: ${join(f, 'sub')} cannot be a data dir: a part of its path is a file`)
  })

  it('--data naming a directory this process cannot write: exit 2 naming --data and why (it was exit 1: "cannot read identity …: EACCES")', async () => {
    // /proc/1/fdinfo: a directory no one may create files in, root included (Linux only)
    const r = await gossipd(['start', '--data', '/proc/1/fdinfo', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { timeoutMs: 10_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('invalid configuration: --data: /proc/1/fdinfo cannot be a data dir: this process cannot write to it (EACCES)')
  })

  it('--data under /proc (which cannot be created): exit 2 naming --data and the reason, not a hang (Node 20\'s recursive mkdir looped there for good)', async () => {
    const r = await gossipd(['start', '--data', '/proc/gossipd-no-such/data', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { timeoutMs: 10_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('invalid configuration: --data: cannot create data dir /proc/gossipd-no-such/data: ENOENT')
    // the same from the environment names the variable
    const e = await gossipd(['start', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], { timeoutMs: 10_000, env: { GOSSIPD_DATA: '/sys/gossipd-no-such' } })
    expect(e.code).toBe(2)
    expect(e.stderr).toMatch(/invalid configuration: GOSSIPD_DATA: cannot create data dir \/sys\/gossipd-no-such: E(PERM|ROFS|ACCES)/)
  })

  it('missing config file', async () => {
    const r = await start(['--config', '/nonexistent/gossipd.json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('config: cannot read /nonexistent/gossipd.json: ENOENT')
  })
})
