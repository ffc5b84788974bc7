// A stream from a daemon that stops sending, not even its 15 s heartbeat (frozen, or its host gone without
// closing the connection): the client ends the stream with TIMEOUT instead of waiting forever, and
// heartbeats alone keep a quiet stream open. A fake daemon on 127.0.0.1 plays both.
import { it, expect, afterEach } from 'vitest'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { GossipClient, ApiRequestError, DaemonUnreachableError } from '../src/client/client.js'
import { followLogs } from '../src/client/observe.js'
import { waitFor } from './helpers.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) { s.closeAllConnections(); await new Promise(resolve => s.close(resolve)) }
})

/** a daemon's stream endpoint that confirms the stream, then does `then` with the response */
async function fakeDaemon (then: (res: ServerResponse) => void): Promise<GossipClient> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: ready\ndata: {}\n\n')
    then(res)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return new GossipClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' })
}

async function firstOutcome (stream: AsyncIterable<unknown>, ms: number): Promise<unknown> {
  const it = stream[Symbol.asyncIterator]()
  return await Promise.race([it.next().then(r => r, (err: Error) => err), sleep(ms).then(() => 'still waiting')])
}

it('a daemon that goes silent: the stream ends with TIMEOUT', async () => {
  const client = await fakeDaemon(() => { /* nothing more, connection left open */ })
  const stream = await client.stream('t', { idleTimeoutMs: 300 })
  const outcome = await firstOutcome(stream, 3_000)
  expect(outcome).toBeInstanceOf(ApiRequestError)
  expect((outcome as ApiRequestError).code).toBe('TIMEOUT')
  expect(stream.endedByServer).toBe(true)
})

it('heartbeats keep a quiet stream open', async () => {
  const client = await fakeDaemon(res => {
    const t = setInterval(() => res.write(': ping\n\n'), 100)
    res.on('close', () => clearInterval(t))
  })
  const stream = await client.stream('t', { idleTimeoutMs: 300 })
  expect(await firstOutcome(stream, 1_500)).toBe('still waiting')
  stream.close()
})

it('the log stream (gossipd monitor) of a daemon that goes silent ends as a daemon that went away', async () => {
  const client = await fakeDaemon(() => {})
  const outcome = await Promise.race([
    followLogs(client, 'info', () => {}, { idleTimeoutMs: 300 }).then(() => 'ended without error', (err: Error) => err),
    sleep(3_000).then(() => 'still waiting'),
  ])
  expect(outcome).toBeInstanceOf(DaemonUnreachableError)
  expect((outcome as Error).message).toMatch(/went away during the log stream/)
})

it('a log stream left by its reader (onLine threw) is closed, not kept open holding a daemon stream slot', async () => {
  let closed = false
  const client = await fakeDaemon(res => {
    res.on('close', () => { closed = true })
    const t = setInterval(() => res.write('event: log\ndata: {"msg":"x"}\n\n'), 50)
    res.on('close', () => clearInterval(t))
  })
  const outcome = await followLogs(client, 'info', () => { throw new Error('reader broke') }, { idleTimeoutMs: 60_000 }).then(() => 'ended', (err: Error) => err.message)
  expect(outcome).toBe('reader broke')
  await waitFor('the daemon saw the log stream closed', () => closed, 5_000)
})

it('idleTimeoutMs: Infinity (or past setTimeout\'s 24.8 days) means no deadline, not one of 1 ms', async () => {
  const client = await fakeDaemon(() => { /* quiet, connection left open */ })
  for (const idleTimeoutMs of [Infinity, 2 ** 31]) {
    const stream = await client.stream('t', { idleTimeoutMs })
    expect(await firstOutcome(stream, 300)).toBe('still waiting')
    stream.close()
  }
})

it('leaving a for-await loop over a stream (break) closes it: the process is not held by an open request', async () => {
  let closed = false
  const client = await fakeDaemon(res => {
    for (let i = 1; i <= 5; i++) res.write(`event: message\nid: ${i}\ndata: {"offset":${i},"seq":${i}}\n\n`)
    const t = setInterval(() => res.write(': ping\n\n'), 100)
    res.on('close', () => { clearInterval(t); closed = true })
  })
  const stream = await client.stream('t')
  let n = 0
  for await (const m of stream) if (m != null && ++n === 3) break
  expect(n).toBe(3)
  await waitFor('the daemon sees the stream closed', () => closed, 5_000)
  expect(stream.endedByServer).toBe(false)
})
