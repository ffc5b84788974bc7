// The control API in-process (a real GossipNode and a real HTTP listener on 127.0.0.1): auth, DNS
/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read arbitrary JSON error bodies */
// rebinding checks, every error status, streams, consumers, and that the daemon stays healthy.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { GossipClient, ApiRequestError, parseFromArg } from '../src/client/client.js'
import { decodeBase64 } from '../src/wire/base64.js'
import { TOPIC_PATTERN as WIRE_TOPIC_PATTERN, topicProblem } from '../src/wire/topic.js'
import { TOPIC_PATTERN } from '../src/core/limits.js'
import { ERROR_CODES } from '../src/wire/errors.js'
import { startNode, removeTempDirs, waitFor } from './helpers.js'

const MAX = 64 * 1024
let node: GossipNode
let api: Awaited<ReturnType<typeof createApi>>
const token = 'test-token-0123456789'
let client: GossipClient

beforeAll(async () => {
  node = await startNode({ maxPayloadBytes: MAX })
  api = await createApi({ node, token, maxPayloadBytes: MAX, heartbeatMs: 200 })
  client = new GossipClient({ url: api.url, token })
})
afterAll(async () => {
  await api?.close()
  await node?.stop()
  removeTempDirs()
})

async function call (path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(api.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers }
}

/** Raw HTTP over a socket, for headers fetch will not let us set (Host) and for garbage. */
async function raw (request: string): Promise<string> {
  const u = new URL(api.url)
  return await new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname)
    let out = ''
    s.on('data', d => { out += d })
    s.on('end', () => resolve(out))
    s.on('error', reject)
    s.end(request)
  })
}

async function expectHealthy (): Promise<void> {
  const s = await client.status()
  expect(s.peerId).toBe(node.peerId)
  const r = await client.publish('health', 'still fine')
  expect(r.seq).toBeGreaterThan(0)
}

describe('control API: authentication and DNS rebinding protection', () => {
  it('401 without a token, with a wrong token, and with a token of the wrong length', async () => {
    for (const auth of [undefined, 'Bearer nope-nope-nope-nope-nope', 'Bearer x', `Basic ${token}`]) {
      const res = await fetch(`${api.url}/v1/status`, { headers: auth != null ? { authorization: auth } : {} })
      expect(res.status).toBe(401)
      expect(((await res.json()) as any).error.code).toBe('UNAUTHORIZED')
    }
  })

  it('403 for a foreign Origin, even with the right token; same-origin is fine', async () => {
    const r = await call('/v1/status', { headers: { origin: 'http://evil.example' } })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('FORBIDDEN_ORIGIN')
    const nul = await call('/v1/status', { headers: { origin: 'null' } })
    expect(nul.status).toBe(403)
    const same = await call('/v1/status', { headers: { origin: api.url } })
    expect(same.status).toBe(200)
  })

  it('403 for a Host that is not the loopback address (DNS rebinding)', async () => {
    const port = new URL(api.url).port
    const res = await raw(`GET /v1/status HTTP/1.1\r\nHost: evil.example:${port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    expect(res).toMatch(/^HTTP\/1.1 403/)
    expect(res).toContain('FORBIDDEN_HOST')
    const ok = await raw(`GET /v1/status HTTP/1.1\r\nHost: localhost:${port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    expect(ok).toMatch(/^HTTP\/1.1 200/)
    const wrongPort = await raw(`GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    expect(wrongPort).toMatch(/^HTTP\/1.1 403/)
  })
})

describe('control API: bad requests get JSON errors with the right status', () => {
  it('400 for bad JSON, wrong types, extra fields and bad base64', async () => {
    const post = async (body: string): Promise<{ status: number, body: any }> =>
      await call('/v1/topics/chat/messages', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const bad = await post('{"payload": ')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('BAD_JSON')
    for (const body of ['{"payload": 5}', '{}', '[]', 'null', '{"payload": "x", "extra": 1}', '{"payload": "x", "encoding": "hex"}']) {
      const r = await post(body)
      expect(r.status, body).toBe(400)
      expect(r.body.error.message, body).toBeTypeOf('string')
    }
    const b64 = await post('{"payload": "not base64!", "encoding": "base64"}')
    expect(b64.status).toBe(400)
    expect(b64.body.error.code).toBe('BAD_PAYLOAD')
    await expectHealthy()
  })

  it('base64 payloads are checked strictly: anything that would not round-trip is 400 BAD_PAYLOAD and nothing is stored', async () => {
    const post = async (payload: string): Promise<{ status: number, body: any }> =>
      await call('/v1/topics/b64/messages', { method: 'POST', body: JSON.stringify({ payload, encoding: 'base64' }), headers: { 'content-type': 'application/json' } })
    await client.join('b64')
    // length 1 mod 4, mixed or url alphabet, bad or excess padding, non-zero trailing bits, whitespace, not base64 at all
    for (const bad of ['abcde', 'a', 'a+_b', '-_-_', 'aGk==', 'aG=k', '=', 'aGl=', 'aGk=\n', ' aGk=', 'aGVs bG8=', 'hello world!!', '%%%%']) {
      const r = await post(bad)
      expect(r.status, bad).toBe(400)
      expect(r.body.error.code, bad).toBe('BAD_PAYLOAD')
    }
    expect(await client.history('b64')).toEqual([])
    // canonical base64, padded or not, is stored exactly
    for (const [text, bytes] of [['aGk=', 'hi'], ['aGk', 'hi'], ['aGVsbG8gd29ybGQhIQ==', 'hello world!!'], ['+/+/', '\xfb\xff\xbf'], ['', '']]) {
      const r = await post(text)
      expect(r.status, text).toBe(201)
      const [m] = await client.history('b64', { after: r.body.offset - 1, limit: 1, encoding: 'base64' })
      expect(Buffer.from(m.payload, 'base64').toString('latin1'), text).toBe(bytes)
    }
    await expectHealthy()
  })

  it('a text payload with a lone UTF-16 surrogate is 400 BAD_PAYLOAD, not stored with U+FFFD in its place', async () => {
    await client.join('text')
    for (const payload of ['a\ud800b', '\udfff', 'x\ud83d']) {
      const r = await call('/v1/topics/text/messages', { method: 'POST', body: JSON.stringify({ payload }), headers: { 'content-type': 'application/json' } })
      expect(r.status, JSON.stringify(payload)).toBe(400)
      expect(r.body.error.code, JSON.stringify(payload)).toBe('BAD_PAYLOAD')
    }
    await expect(client.publish('text', 'a\ud800b')).rejects.toMatchObject({ status: 400, code: 'BAD_PAYLOAD' })
    expect(await client.history('text')).toEqual([])
    // a well-formed pair is text like any other
    const ok = await client.publish('text', 'smile \ud83d\ude00')
    const [m] = await client.history('text', { after: ok.offset - 1, limit: 1 })
    expect(m.payload).toBe('smile \u{1F600}')
  })

  it('the shared base64 check (src/wire/base64.ts) accepts exactly the canonical encodings: decoding and re-encoding gives the text back', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = randomBytes(n)
      const text = bytes.toString('base64')
      expect(Buffer.from(decodeBase64(text)!)).toEqual(bytes)
      expect(Buffer.from(decodeBase64(text.replace(/=+$/, ''))!)).toEqual(bytes)
    }
    // every text of up to 4 characters over a mixed alphabet: accepted only if it re-encodes to itself
    const chars = ['A', 'Q', 'g', 'w', '+', '/', '-', '_', '=', ' ', '%']
    let texts = ['']
    for (let len = 1; len <= 4; len++) {
      texts = texts.flatMap(t => chars.map(c => t + c))
      for (const t of texts) {
        const d = decodeBase64(t)
        if (d != null) expect(Buffer.from(d).toString('base64').replace(/=+$/, ''), t).toBe(t.replace(/=+$/, ''))
        if (d != null) expect(t, t).toMatch(/^[A-Za-z0-9+/]*=*$/)
      }
    }
    expect(decodeBase64('aGk=')).toEqual(new Uint8Array(Buffer.from('hi')))
    for (const bad of ['abcde', 'a+_b', 'aGl=', 'aGk==', 'aGk=\n']) expect(decodeBase64(bad), bad).toBeUndefined()
  })

  it('400 for a bad topic name on every topic route', async () => {
    for (const [method, path] of [['PUT', ''], ['DELETE', ''], ['GET', '/messages'], ['POST', '/messages'], ['GET', '/stream']]) {
      const r = await call(`/v1/topics/${encodeURIComponent('bad topic')}${path}`, { method, ...(method === 'POST' ? { body: 'x', headers: { 'content-type': 'text/plain' } } : {}) })
      expect(r.status, `${method} ${path}`).toBe(400)
      expect(r.body.error.code).toBe('BAD_TOPIC')
    }
    await expect(client.publish('.dot', 'x')).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC' })
  })

  it('413 for a payload over the limit (raw and JSON) and for a body over the body limit', async () => {
    const over = new Uint8Array(MAX + 1)
    const r = await call('/v1/topics/chat/messages', { method: 'POST', body: over, headers: { 'content-type': 'application/octet-stream' } })
    expect(r.status).toBe(413)
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE')
    await expect(client.publish('chat', over)).rejects.toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' })
    const huge = await call('/v1/topics/chat/messages', { method: 'POST', body: new Uint8Array(MAX * 3), headers: { 'content-type': 'application/octet-stream' } })
    expect(huge.status).toBe(413)
    expect(huge.body.error.code).toBe('BODY_TOO_LARGE')
    // exactly the limit is fine
    const exact = await client.publish('chat', new Uint8Array(MAX))
    expect(exact.seq).toBeGreaterThan(0)
    await expectHealthy()
  })

  it('400 for bad query parameters, 404 for unknown routes and topics, 409 for a busy consumer', async () => {
    for (const q of ['limit=abc', 'limit=0', 'limit=10001', 'after=-1', 'encoding=hex']) {
      const r = await call(`/v1/topics/chat/messages?${q}`)
      expect(r.status, q).toBe(400)
    }
    expect((await call('/v1/topics/chat/stream?from=yesterday')).body.error.code).toBe('BAD_FROM')
    // an offset a number cannot hold exactly, an epoch-ms time no Date can hold: BAD_FROM (they opened a stream)
    for (const from of ['offset:99999999999999999999', 'offset:9007199254740993', 'time:99999999999999999']) {
      // status first, then stop: a stream that was wrongly opened would never end
      const stop = new AbortController()
      const res = await fetch(`${api.url}/v1/topics/chat/stream?join=true&from=${from}`, { headers: { authorization: `Bearer ${token}` }, signal: stop.signal })
      const body = res.status === 400 ? await res.json() as any : null
      stop.abort()
      expect(res.status, from).toBe(400)
      expect(body.error.code, from).toBe('BAD_FROM')
      expect(() => parseFromArg(from), from).toThrow(/invalid --from/)
    }
    expect((await call('/v1/nothing')).status).toBe(404)
    const gone = await call('/v1/topics/never-joined', { method: 'DELETE' })
    expect(gone.status).toBe(404)
    expect(gone.body.error.code).toBe('NO_SUCH_TOPIC')
    const ack = await call('/v1/topics/chat/consumers/c1/ack', { method: 'POST', body: '{"origin":"x","seq":0}', headers: { 'content-type': 'application/json' } })
    expect(ack.status).toBe(400)
    const ackUnknown = await call('/v1/topics/not-kept/consumers/c1/ack', { method: 'POST', body: '{"origin":"x","seq":1}', headers: { 'content-type': 'application/json' } })
    expect(ackUnknown.status).toBe(404)
    expect(node.topics().map(t => t.topic)).not.toContain('not-kept')

    const s = await client.stream('busy', { consumer: 'only-one', join: true })
    await expect(client.stream('busy', { consumer: 'only-one' })).rejects.toMatchObject({ status: 409, code: 'CONSUMER_BUSY' })
    s.close()
  })

  it('consumer names that a URL path cannot carry (. and ..) are refused, so every consumer that streams can also ack', async () => {
    node.join('chat')
    for (const name of ['.', '..']) {
      // status first, then stop: a stream that was wrongly opened would never end
      const stop = new AbortController()
      const res = await fetch(`${api.url}/v1/topics/chat/stream?consumer=${name}`, { headers: { authorization: `Bearer ${token}` }, signal: stop.signal })
      const status = res.status
      const body = status === 400 ? await res.json() as any : null
      stop.abort()
      expect(status, name).toBe(400)
      expect(body.error.code, name).toBe('BAD_REQUEST')
      await expect(client.ack('chat', name, { origin: 'x', seq: 1 }), name).rejects.toMatchObject({ status: 400 })
    }
    // the client refuses a bad name before sending, with its own rule's message (README, Limits)
    for (const name of ['.', '..', 'a b', 'x'.repeat(65)]) {
      await expect(client.stream('chat', { consumer: name }), name).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringContaining('invalid consumer name') })
    }
    // other names with dots stream and ack as usual
    const s = await client.stream('chat', { consumer: '...' })
    const acked = await call('/v1/topics/chat/consumers/.../ack', { method: 'POST', body: JSON.stringify({ origin: 'x', seq: 1 }), headers: { 'content-type': 'application/json' } })
    expect(acked.body.error?.code).toBe('NOT_DELIVERED')
    s.close()
  })

  it('a refused stream request has no side effect: ?join=true with a bad from (400) or past the stream limit (503) joins nothing', async () => {
    const joined = async (): Promise<string[]> => (await client.topics()).map(t => t.topic)
    const bad = await call('/v1/topics/sidefx2/stream?join=true&from=bogus')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('BAD_FROM')
    expect(await joined()).not.toContain('sidefx2')
    // a second API on the same node with room for one stream, which is taken
    const one = await createApi({ node, token, maxStreams: 1 })
    const held = await new GossipClient({ url: one.url, token }).stream('chat', { join: true })
    try {
      const res = await fetch(`${one.url}/v1/topics/sidefx/stream?join=true`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(503)
      expect(((await res.json()) as any).error.code).toBe('TOO_MANY_STREAMS')
      expect(await joined()).not.toContain('sidefx')
    } finally {
      held.close()
      await one.close()
    }
    // valid requests still join
    const s = await client.stream('sidefx', { join: true })
    expect(await joined()).toContain('sidefx')
    s.close()
  })

  it('framework errors answer in the documented shape: long topics are BAD_TOPIC, bad percent-encoding BAD_URL', async () => {
    for (const n of [129, 600, 5000]) {
      for (const [method, path] of [['PUT', ''], ['POST', '/messages'], ['GET', '/stream']]) {
        const r = await call(`/v1/topics/${'a'.repeat(n)}${path}`, { method, ...(method === 'POST' ? { body: 'x', headers: { 'content-type': 'text/plain' } } : {}) })
        expect(r.status, `${n} ${method} ${path}`).toBe(400)
        expect(r.body, `${n} ${method} ${path}`).toEqual({ error: { code: 'BAD_TOPIC', message: expect.stringContaining('invalid topic name') } })
      }
    }
    for (const path of ['/v1/topics/a%ZZ', '/v1/topics/a%ZZ/messages', '/v1/topics/%E0%A4%A']) {
      const r = await call(path, { method: 'PUT' })
      expect(r.status, path).toBe(400)
      expect(r.body, path).toEqual({ error: { code: 'BAD_URL', message: expect.any(String) } })
    }
    // a request line over Node's header limit: still the documented shape
    const huge = await raw(`PUT /v1/topics/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    expect(huge).toMatch(/^HTTP\/1.1 431/)
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) } })
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n')
    expect(garbage).toMatch(/^HTTP\/1.1 400/)
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String) } })
    await expectHealthy()
  })

  it('every error body has a documented code: an empty JSON body, a malformed Content-Type, no Host header', async () => {
    const known = new Set<string>(Object.values(ERROR_CODES))
    const bodyOf = (res: string): any => JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4))
    const empty = await call('/v1/topics/chat/messages', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } })
    expect(empty.status).toBe(400)
    expect(empty.body.error.code).toBe('BAD_JSON')
    for (const ct of ['', ';']) {
      const res = await raw(`POST /v1/topics/chat/messages HTTP/1.1\r\nHost: 127.0.0.1:${new URL(api.url).port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${ct}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`)
      expect(res, ct).toMatch(/^HTTP\/1.1 400/)
      expect(known.has(bodyOf(res).error.code), res).toBe(true)
    }
    // HTTP/1.1 without Host: Node's own bare 400 had an empty body; the Host check answers in the documented shape
    const noHost = await raw(`GET /v1/status HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    expect(noHost).toMatch(/^HTTP\/1.1 403/)
    expect(bodyOf(noHost)).toEqual({ error: { code: 'FORBIDDEN_HOST', message: expect.any(String) } })
    await expectHealthy()
  })

  it('the client refuses topics a URL cannot carry (. and ..) with BAD_TOPIC, as the daemon does', async () => {
    for (const topic of ['..', '.', '', 'a b', 'x'.repeat(129)]) {
      await expect(client.join(topic), topic).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC', message: expect.stringContaining('invalid topic name') })
      await expect(client.publish(topic, 'x'), topic).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC' })
      await expect(client.history(topic), topic).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC' })
      await expect(client.stream(topic, { join: true }), topic).rejects.toMatchObject({ status: 400, code: 'BAD_TOPIC' })
    }
    expect(node.topics().map(t => t.topic)).not.toContain('..')
    // the client's rule (src/wire/topic.ts) is the daemon's (src/core/limits.ts)
    expect(WIRE_TOPIC_PATTERN.source).toBe(TOPIC_PATTERN.source)
    for (const t of ['a', '_x', 'a/b', 'a/..', 'x'.repeat(128), '..', '.', '/a', 'a b', 'é']) expect(topicProblem(t) == null, t).toBe(TOPIC_PATTERN.test(t))
  })

  it('garbage on the socket does not hurt the daemon', async () => {
    const res = await raw('NOT HTTP AT ALL\r\n\r\n')
    expect(res).toMatch(/^HTTP\/1.1 400/)
    await raw(`POST /v1/topics/chat/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nshort`)
    await expectHealthy()
  })
})

describe('control API: topics, publish, history, streams, consumers', () => {
  it('PUT/DELETE subscribe and unsubscribe; topics with / work when encoded', async () => {
    expect((await call('/v1/topics/a%2Fb', { method: 'PUT' })).status).toBe(200)
    expect((await client.topics()).map(t => t.topic)).toContain('a/b')
    expect(node.topics().map(t => t.topic)).toContain('a/b')
    await client.leave('a/b')
    expect((await client.topics()).map(t => t.topic)).not.toContain('a/b')
  })

  it('publish answers 201 with id, seq and offset; history pages by offset; binary comes back as base64', async () => {
    const res = await fetch(`${api.url}/v1/topics/hist/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"payload":"one"}' })
    expect(res.status).toBe(201)
    const one = await res.json() as any
    expect(one).toMatchObject({ topic: 'hist', seq: 1, origin: node.peerId, id: `${node.peerId}:hist:1` })
    await client.publish('hist', 'two')
    await client.publish('hist', new Uint8Array([0xff, 0xfe, 0x00]))
    const all = await client.history('hist')
    expect(all.map(m => m.payload)).toEqual(['one', 'two', Buffer.from([0xff, 0xfe, 0x00]).toString('base64')])
    expect(all[2].encoding).toBe('base64')
    const after = await client.history('hist', { after: one.offset, limit: 1 })
    expect(after.map(m => m.payload)).toEqual(['two'])
    const b64 = await client.history('hist', { encoding: 'base64', limit: 1 })
    expect(b64[0].encoding).toBe('base64')
  })

  it('a stream delivers live messages; Last-Event-ID resumes after the last one seen', async () => {
    const s = await client.stream('live', { from: 'now', join: true })
    await client.publish('live', 'a')
    await client.publish('live', 'b')
    const got: string[] = []
    for await (const m of s) { got.push(m.payload); if (got.length === 2) break }
    expect(got).toEqual(['a', 'b'])
    const last = s.lastEventId!
    s.close()
    await client.publish('live', 'c')
    const resumed = await client.stream('live', { lastEventId: last - 1 })
    const again: string[] = []
    for await (const m of resumed) { again.push(m.payload); if (again.length === 2) break }
    resumed.close()
    expect(again).toEqual(['b', 'c'])
  })

  it('a named consumer resumes after its last ack, and ack works with no stream open', async () => {
    for (const p of ['1', '2', '3']) await client.publish('jobs', p)
    const s = await client.stream('jobs', { consumer: 'w' })
    const first = (await s[Symbol.asyncIterator]().next()).value!
    expect(first.payload).toBe('1')
    await client.ack('jobs', 'w', first)
    s.close()
    await waitFor('stream closed on the daemon', () => node.status().consumers === 0)
    const s2 = await client.stream('jobs', { consumer: 'w' })
    const next = (await s2[Symbol.asyncIterator]().next()).value!
    expect(next.payload).toBe('2')
    s2.close()
    await waitFor('stream closed on the daemon', () => node.status().consumers === 0)
    await client.ack('jobs', 'w', { origin: next.origin, seq: 3 })
    const s3 = await client.stream('jobs', { consumer: 'w' })
    await client.publish('jobs', '4')
    const after = (await s3[Symbol.asyncIterator]().next()).value!
    expect(after.payload).toBe('4')
    s3.close()
  })

  it('the client reports API errors as ApiRequestError', async () => {
    const bad = new GossipClient({ url: api.url, token: 'wrong' })
    const err = await bad.status().catch(e => e)
    expect(err).toBeInstanceOf(ApiRequestError)
    expect(err.status).toBe(401)
  })
})

describe('publish backpressure through the API', () => {
  it('answers 503 BUSY with retry-after when the store stays behind past the wait, and publishes nothing', async () => {
    // a write queue limit of 0: every publish has to wait, so the bounded wait always runs out
    const stuck = await startNode({ maxPendingWrites: 0 })
    const stuckApi = await createApi({ node: stuck, token, publishWaitMs: 150 })
    try {
      const res = await fetch(`${stuckApi.url}/v1/topics/held/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ payload: 'x' }),
      })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BUSY')
      expect(stuck.topics().find(t => t.topic === 'held')?.messages ?? 0).toBe(0)
    } finally {
      await stuckApi.close()
      await stuck.stop()
    }
  })
})
