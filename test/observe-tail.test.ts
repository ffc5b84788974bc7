// The live tail's preview of a message (src/daemon/observe/live.ts): the swarm page shows a message's first
// 200 characters as text when its bytes are UTF-8, as base64 when they are not.
import { describe, it, expect } from 'vitest'
import { tailMessage } from '../src/daemon/observe/live.js'
import type { ReceivedMessage } from '../src/core/events.js'

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
