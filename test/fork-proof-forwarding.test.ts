// A gossip message that showed a node a fork is forwarded (inbound.ts validate): the proof for peers that hold
// one version or neither. Only that message, and only when what it carries was verified here: otherwise an
// honest relay forwards something its peers find invalid, and they penalise it.
import { describe, it, expect, afterEach, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { Store } from '../src/store/store.js'
import { envelopeCodec, sealEnvelope, ownBytes, type Envelope } from '../src/core/envelope.js'
import { encodeBundle } from '../src/core/bundle.js'
import { Inbound, type InboundParts } from '../src/core/inbound.js'
import { Forks, type ForkInfo } from '../src/core/forks.js'
import type { NodeStats } from '../src/core/events.js'
import { tempDir, removeTempDirs } from './helpers.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

afterEach(() => removeTempDirs())

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

interface Node { store: Store, inbound: Inbound, found: ForkInfo[], penalised: string[], passedOn: Uint8Array[][] }

async function node (): Promise<Node> {
  const store = new Store(tempDir(), { codec: envelopeCodec })
  store.addTopic('t')
  const stats: NodeStats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0 }
  const found: ForkInfo[] = []
  const penalised: string[] = []
  const passedOn: Uint8Array[][] = []
  const forks = new Forks({ stats, emit: ((event: string, f: ForkInfo) => { if (event === 'fork') found.push(f); return true }) as never })
  const inbound = new Inbound({
    store, sources: new Map(), stats, maxPayloadBytes: 1 << 20, isRunning: () => true, isJoined: () => true,
    syncSoon: () => {}, forks, emit: (() => true) as never, log: () => {}, canForwardBundle: () => true,
    penalise: (_peer, reason) => { penalised.push(reason) }, passOnFork: (_t, raws) => { passedOn.push(raws) },
  } as InboundParts)
  return { store, inbound, found, penalised, passedOn }
}

async function forking (): Promise<{ key: PrivateKey, origin: string, one: (text: string, seq?: number) => ReturnType<typeof sealEnvelope> }> {
  const key = await generateKeyPair('Ed25519')
  const origin = peerIdFromPrivateKey(key).toString()
  return { key, origin, one: (text, seq = 1) => sealEnvelope(key, origin, 't', seq, Date.now(), enc(text)) }
}

const msg = (data: Uint8Array): { topic: string, data: Uint8Array } => ({ topic: 't', data })
const validate = async (n: Node, from: PeerId, data: Uint8Array): Promise<TopicValidatorResult> =>
  await n.inbound.validate(from, msg(data) as never)

describe('forwarding a message that showed a fork', () => {
  it('a forged copy waiting on a genuine one is not forwarded because some other message showed a fork meanwhile', async () => {
    const r = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // a fork of origin A: R holds 1A, 1B will come
    const a = await forking()
    const a1 = a.one('branch A')
    const b1 = a.one('branch B')
    expect(await r.inbound.acceptEnvelope(a1.envelope, a1.bytes, from, 'gossip', true)).toBe('stored')
    // origin X's genuine 1, slow to verify; a forged 1 of X (another key) waits on its outcome
    const x = await forking()
    const genuine = x.one('x genuine')
    const forged = sealEnvelope(await generateKeyPair('Ed25519'), x.origin, 't', 1, Date.now(), enc('x forged'))
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const real = r.inbound.checkSignature.bind(r.inbound)
    vi.spyOn(r.inbound, 'checkSignature').mockImplementation(async (e: Envelope) => {
      if (e.origin === x.origin) await gate
      return await real(e)
    })
    const first = validate(r, from, genuine.bytes)
    const second = validate(r, from, forged.bytes)
    await new Promise(resolve => setTimeout(resolve, 20))
    // meanwhile 1B comes: a fork, this message is the proof and goes on
    expect(await validate(r, from, b1.bytes)).toBe(TopicValidatorResult.Accept)
    expect(r.found).toHaveLength(1)
    release()
    expect(await first).toBe(TopicValidatorResult.Accept)
    // the forged copy taught nothing: forwarded, every peer holding X's 1 would reject it and penalise R. Once
    // the genuine one is authentic it is compared with it as a held copy: the relay's forgery, Rejected
    expect(await second).toBe(TopicValidatorResult.Reject)
    // what a peer holding X's 1 makes of the forged copy, were it forwarded: Rejected, the relay penalised
    const p = await node()
    expect(await p.inbound.acceptEnvelope(genuine.envelope, genuine.bytes, from, 'gossip', true)).toBe('stored')
    expect(await validate(p, from, forged.bytes)).toBe(TopicValidatorResult.Reject)
    expect(p.penalised).toEqual(['invalid envelope'])
    r.store.close()
    p.store.close()
  })

  it('a prev proof (a message and the neighbour it contradicts) as one bundle, at a node holding neither: the fork is found, not both stored', async () => {
    const d = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const a = await forking()
    const a1 = a.one('branch A')
    const a2 = sealEnvelope(a.key, a.origin, 't', 2, Date.now(), enc('A two'), a1.hash)
    const b1 = a.one('branch B')
    // what a node holding 2A passes on when 1B comes (node.ts passOnFork): [2A, 1B]
    expect(await validate(d, from, encodeBundle([a2.bytes, b1.bytes]))).toBe(TopicValidatorResult.Accept)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(d.found).toMatchObject([{ topic: 't', origin: a.origin, seq: 1, how: 'prev' }])
    expect(d.store.heldState('t', a.origin)?.set.size).toBe(1)
    d.store.close()
  })

  it('a bundle carrying an envelope refused unchecked (its stream is known forked here) is not forwarded with it, whatever else it carries', async () => {
    const r = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // R knows X forked at 1 (a peer away then, P, does not: the proof is not carried by sync)
    const x = await forking()
    const x1 = x.one('x branch A')
    expect(await r.inbound.acceptEnvelope(x1.envelope, x1.bytes, from, 'gossip', true)).toBe('stored')
    expect(await validate(r, from, x.one('x branch B').bytes)).toBe(TopicValidatorResult.Accept)
    expect(r.found).toHaveLength(1)
    // a forged 2 of X (another key): refused by R before any check; with it a fresh, genuine message of Y
    const junk = sealEnvelope(await generateKeyPair('Ed25519'), x.origin, 't', 2, Date.now(), enc('x forged'), x1.hash)
    const y = (await forking()).one('y one')
    const bundle = encodeBundle([junk.bytes, y.bytes])
    expect(await validate(r, from, bundle)).toBe(TopicValidatorResult.Ignore)
    // what P makes of it, were it forwarded: Rejected, the relay penalised
    const p = await node()
    expect(await validate(p, from, bundle)).toBe(TopicValidatorResult.Reject)
    expect(p.penalised).toEqual(['invalid envelope'])
    // Y's message was stored at R all the same
    expect(r.store.has('t', y.envelope.origin, 1)).toBe(true)
    r.store.close()
    p.store.close()
  })

  it('a prev fork found against a neighbour still being written is passed on all the same', async () => {
    const r = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const a = await forking()
    const a1 = a.one('branch A')
    const b1 = a.one('branch B')
    const b2 = sealEnvelope(a.key, a.origin, 't', 2, Date.now(), enc('B two'), b1.hash)
    // 1A and, right behind it, 2B (whose prev names 1B): gossip does not wait for the commit
    const first = validate(r, from, a1.bytes)
    const second = validate(r, from, b2.bytes)
    expect(await first).toBe(TopicValidatorResult.Accept)
    expect(await second).toBe(TopicValidatorResult.Accept)
    expect(r.found).toMatchObject([{ seq: 1, how: 'prev' }])
    await r.store.whenFlushed()
    await new Promise(resolve => setTimeout(resolve, 50))
    // the proof, 1A and 2B, goes out for peers that hold one of them or neither
    expect(r.passedOn.map(raws => raws.map(b => Buffer.from(b).toString('hex')))).toEqual([[Buffer.from(a1.bytes).toString('hex'), Buffer.from(b2.bytes).toString('hex')]])
    r.store.close()
  })

  it('a bundle of one linked run taken one at a time (an id repeated in it) costs one signature check, as the run alone does', async () => {
    const r = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const a = await forking()
    const run: Array<ReturnType<typeof sealEnvelope>> = []
    for (let seq = 1; seq <= 255; seq++) run.push(sealEnvelope(a.key, a.origin, 't', seq, Date.now(), enc(`m${seq}`), run.at(-1)?.hash ?? null))
    const stats = (r.inbound as unknown as { p: { stats: NodeStats } }).p.stats
    // a copy of the newest repeated: no fork, yet each envelope was checked on its own (255 checks)
    expect(await validate(r, from, encodeBundle([...run.map(s => s.bytes), run[254].bytes]))).toBe(TopicValidatorResult.Accept)
    expect(r.store.heldState('t', a.origin)?.set.size).toBe(255)
    expect(stats.signatureChecks).toBeLessThanOrEqual(2)
    // and a second version of the newest, of a run of its own: the fork is found, with a check or two more
    const b = await forking()
    const other: Array<ReturnType<typeof sealEnvelope>> = []
    for (let seq = 1; seq <= 255; seq++) other.push(sealEnvelope(b.key, b.origin, 't', seq, Date.now(), enc(`n${seq}`), other.at(-1)?.hash ?? null))
    const fork = sealEnvelope(b.key, b.origin, 't', 255, Date.now(), enc('the other 255'), other[253].hash)
    expect(await validate(r, from, encodeBundle([...other.map(s => s.bytes), fork.bytes]))).toBe(TopicValidatorResult.Accept)
    expect(r.found).toMatchObject([{ origin: b.origin, seq: 255, how: 'same seq' }])
    expect(stats.signatureChecks).toBeLessThanOrEqual(6)
    r.store.close()
  })

  it('a bundle carrying a held message under a signature not its own, with a fresh one, is not forwarded with it', async () => {
    const r = await node()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const y = (await forking()).one('y one')
    const z = (await forking()).one('z one')
    expect(await r.inbound.acceptEnvelope(y.envelope, y.bytes, from, 'gossip', true)).toBe('stored')
    // Y's body under Z's signature: a plain duplicate to R, which holds Y (no check spent); Z fresh
    const swapped = ownBytes({ body: y.envelope.body, sig: z.envelope.sig }, new Uint8Array([0]))
    const bundle = encodeBundle([swapped, z.bytes])
    expect(await validate(r, from, bundle)).toBe(TopicValidatorResult.Ignore)
    expect(r.store.has('t', z.envelope.origin, 1)).toBe(true)
    // what a peer without Y makes of it, were it forwarded: Rejected, the relay penalised
    const p = await node()
    expect(await validate(p, from, bundle)).toBe(TopicValidatorResult.Reject)
    expect(p.penalised).toEqual(['invalid envelope'])
    // nor a fork's proof carrying the held version under another signature: the other version shows the fork
    const a = await forking()
    const a1 = a.one('branch A')
    expect(await r.inbound.acceptEnvelope(a1.envelope, a1.bytes, from, 'gossip', true)).toBe('stored')
    const proof = encodeBundle([ownBytes({ body: a1.envelope.body, sig: z.envelope.sig }, new Uint8Array([0])), a.one('branch B').bytes])
    expect(await validate(r, from, proof)).toBe(TopicValidatorResult.Ignore)
    expect(r.found).toHaveLength(1)
    expect(await validate(p, from, proof)).toBe(TopicValidatorResult.Reject)
    // an honest bundle with a held message in it (bytes as signed) still goes on
    const w = (await forking()).one('w one')
    expect(await validate(r, from, encodeBundle([y.bytes, w.bytes]))).toBe(TopicValidatorResult.Accept)
    r.store.close()
    p.store.close()
  })
})
