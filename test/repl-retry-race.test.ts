// The REPL's retry of a lost stream against a scripted client: what the user types while a stream is
// being reopened wins (an unsub is not undone, a sub is not doubled).
import { describe, it, expect } from 'vitest'
import { PassThrough } from 'node:stream'
import type { GossipClient } from '../src/client/client.js'
import { runRepl } from '../src/repl/repl.js'
import { waitFor } from './helpers.js'

/** a stream the test ends (as the daemon would) and that records close() */
class FakeStream {
  closed = false
  ended = false
  lastEventId?: number = 7
  private wake?: () => void
  get endedByServer (): boolean { return this.ended && !this.closed }
  endByServer (): void { this.ended = true; this.wake?.() }
  close (): void { this.closed = true; this.wake?.() }
  /** yields no message: ends when the test ends it or the REPL closes it */
  [Symbol.asyncIterator] (): AsyncIterator<never> {
    return {
      next: async () => {
        while (!this.ended && !this.closed) await new Promise<void>(resolve => { this.wake = resolve })
        return { done: true, value: undefined }
      },
    }
  }
}

interface Opened { stream: FakeStream, open: (s?: FakeStream) => void }

function scripted (): { client: GossipClient, calls: Opened[] } {
  const calls: Opened[] = []
  const client = {
    url: 'http://127.0.0.1:1',
    topics: async () => [],
    status: async () => ({ peerId: 'x', peers: 0, topics: 0, consumers: 0, pendingWrites: 0, addresses: [] }),
    stream: async () => {
      const stream = new FakeStream()
      // each open waits until the test lets it through
      return await new Promise<FakeStream>(resolve => { calls.push({ stream, open: () => resolve(stream) }) })
    },
  }
  return { client: client as unknown as GossipClient, calls }
}

function harness (): { text: () => string, type: (l: string) => void, end: () => Promise<void>, calls: Opened[] } {
  const { client, calls } = scripted()
  const input = new PassThrough()
  const output = new PassThrough()
  let text = ''
  output.on('data', d => { text += d })
  const done = runRepl({ client, input, output, terminal: false })
  return { text: () => text, type: l => input.write(l + '\n'), end: async () => { input.end(); await done }, calls }
}

async function loseFirstStream (r: ReturnType<typeof harness>): Promise<void> {
  r.type('sub t')
  await waitFor('sub asked', () => r.calls.length === 1)
  r.calls[0].open()
  await waitFor('subscribed', () => r.text().includes('subscribed to t'))
  r.calls[0].stream.endByServer()
  await waitFor('lost', () => r.text().includes('[t] the daemon closed the stream'))
  // the retry (on its own, no command typed) starts reopening it
  await waitFor('reopening', () => r.calls.length === 2, 10_000)
}

describe('repl: retrying a lost stream while the user types', () => {
  it('an unsub typed while the lost stream is being reopened is not undone', async () => {
    const r = harness()
    await loseFirstStream(r)
    r.type('unsub t')
    await waitFor('unsub answered', () => /unsubscribed from t|not showing t/.test(r.text()))
    r.calls[1].open()
    await waitFor('reopened stream settled', () => r.calls[1].stream.closed || r.text().includes('resubscribed to t'))
    expect(r.text()).not.toContain('resubscribed to t')
    expect(r.text()).toContain('unsubscribed from t')
    expect(r.calls[1].stream.closed).toBe(true)
    await r.end()
  }, 20_000)

  it('a sub typed while the lost stream is being reopened leaves one stream open, not two', async () => {
    const r = harness()
    await loseFirstStream(r)
    r.type('sub t')
    await waitFor('second sub asked', () => r.calls.length === 3)
    r.calls[2].open()
    await waitFor('subscribed again', () => (r.text().match(/subscribed to t/g) ?? []).length >= 2)
    r.calls[1].open()
    await waitFor('reopened stream settled', () => r.calls[1].stream.closed || r.text().includes('resubscribed to t'))
    const open = [r.calls[1].stream, r.calls[2].stream].filter(s => !s.closed)
    expect(open).toHaveLength(1)
    // the one still open is the one shown: unsub closes it
    r.type('unsub t')
    await waitFor('unsub answered', () => /unsubscribed from t|not showing t/.test(r.text()))
    expect(open[0].closed).toBe(true)
    await r.end()
  }, 20_000)

  it('a daemon that takes the reopened stream and drops it at once is asked less and less often, not every second', async () => {
    const r = harness()
    await loseFirstStream(r)
    const started = Date.now()
    // every reopen is let through and ended by the daemon at once, without a message
    let handled = 1
    while (Date.now() - started < 4_500) {
      if (r.calls.length > handled) {
        const c = r.calls[handled++]
        c.open()
        await waitFor('reopened', () => r.text().split('resubscribed to t').length - 1 >= handled - 1)
        c.stream.endByServer()
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    // 1 s, then 2 s, then 4 s apart: at most 2 more reopens within 4.5 s (every second, it was 4)
    expect(r.calls.length - 1).toBeLessThanOrEqual(2)
    await r.end()
  }, 20_000)
})
