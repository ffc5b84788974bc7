// The swarm page's live tail: a message's preview (src/daemon/observe/live.ts), its first 200 characters as
// text when its bytes are UTF-8, as base64 when they are not; and what /ui/events sends of a burst
// (src/daemon/observe/ui.ts): at most 50 messages a second, the rest counted.
import { describe, it, expect, afterEach } from 'vitest'
import { tailMessage } from '../src/daemon/observe/live.js'
import type { ReceivedMessage } from '../src/core/events.js'
import { createApi } from '../src/daemon/api.js'
import { Observability } from '../src/daemon/observe/index.js'
import { startNode, stopAll, waitFor } from './helpers.js'

const origin = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const received = (payload: Uint8Array): ReceivedMessage =>
  ({ id: `${origin}:t:1`, offset: 1, topic: 't', origin, seq: 1, ts: Date.now(), payload, source: 'gossip' }) as ReceivedMessage

describe('live tail preview', () => {
  it('long UTF-8 text is text whatever character its preview cuts into', () => {
    // 3-byte (€), 2-byte (é) and 4-byte (emoji) characters: the 800-byte window ends inside one for some of these
    for (const ch of ['€', 'é', '😀', 'a€', 'ab😀']) {
      const text = ch.repeat(1000)
      const t = tailMessage(received(new TextEncoder().encode(text)))
      expect(t.binary, ch).toBe(false)
      expect(t.preview.startsWith(text.slice(0, 100)), ch).toBe(true)
      expect(t.preview.endsWith('…'), ch).toBe(true)
      // and the 200-character cut does not split a surrogate pair (an emoji) into half a character
      expect(t.preview, ch).not.toMatch(LONE_SURROGATE)
    }
  })

  it('bytes that are not UTF-8 are still base64', () => {
    const t = tailMessage(received(new Uint8Array([0xff, 0xfe, 0x00, 0x41])))
    expect(t.binary).toBe(true)
    expect(t.preview).toBe('//4AQQ==')
  })
})

describe('live tail on /ui/events', () => {
  const closers: Array<() => Promise<void> | void> = []
  afterEach(async () => { for (const c of closers.splice(0).reverse()) await c() })

  it('every message of a burst is either sent or counted in a dropped event, the last second\'s too', async () => {
    const node = await startNode({ topics: ['t'] })
    closers.push(async () => { await stopAll([node]) })
    const observe = new Observability({ version: 'test', expectPeers: false })
    observe.attach(node)
    const api = await createApi({ node, token: 'secret', observe })
    closers.push(async () => { await api.close(); await observe.close() })
    const ctrl = new AbortController()
    closers.push(() => ctrl.abort())
    const res = await fetch(`${api.url}/ui/events`, { headers: { authorization: 'Bearer secret' }, signal: ctrl.signal })
    let shown = 0
    let dropped = 0
    void (async () => {
      let buf = ''
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buf += chunk
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i); buf = buf.slice(i + 2)
          if (ev.startsWith('event: message\n')) shown++
          else if (ev.startsWith('event: dropped\n')) dropped += JSON.parse(ev.slice(ev.indexOf('data: ') + 6)).messages
        }
      }
    })().catch(() => {})
    // more than the page is sent in a second (50), then nothing more
    const N = 200
    for (let i = 0; i < N; i++) await node.publish('t', `m${i}`)
    await waitFor(`all ${N} messages shown or counted as dropped (shown ${shown}, dropped ${dropped})`, () => shown + dropped === N, 5_000)
    expect(shown).toBeLessThan(N)
  })
})
