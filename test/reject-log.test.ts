// The daemon's log of rejected envelopes is bounded whatever peers send: a few lines per peer and per
// minute, the rest counted and summed up, never a line per envelope.
import { describe, it, expect } from 'vitest'
import { RejectLog, REJECT_LINES_PER_PEER, REJECT_LINES_IN_ALL, REJECT_LOG_WINDOW_MS } from '../src/daemon/reject-log.js'

function logger (): { lines: Array<{ obj: Record<string, unknown>, msg: string }>, warn: (obj: object, msg: string) => void } {
  const lines: Array<{ obj: Record<string, unknown>, msg: string }> = []
  return { lines, warn: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg }) } }
}

describe('rejected envelopes in the daemon log', () => {
  it('350,000 rejections from one peer in a minute make a handful of lines; the next window says how many were left out', () => {
    let now = 1_000_000
    const l = logger()
    const log = new RejectLog(l.warn, () => now)
    // as a hostile sync server caused them before: one event per malformed envelope
    for (let i = 0; i < 350_000; i++) log.rejected({ peer: 'P', reason: 'malformed envelope in sync' })
    expect(l.lines.length).toBe(REJECT_LINES_PER_PEER)
    expect(String(l.lines.at(-1)?.obj.note)).toMatch(/counted .* but not logged/)
    // aggregated events: one per batch with its count
    for (let i = 0; i < 10; i++) log.rejected({ peer: 'P', reason: 'malformed envelope in sync', count: 50_000 })
    expect(l.lines.length).toBe(REJECT_LINES_PER_PEER)
    now += REJECT_LOG_WINDOW_MS
    log.rejected({ peer: 'P', reason: 'bad signature or oversized payload', id: 'x' })
    const last = l.lines.filter(x => x.msg === 'rejected message from peer').at(-1)?.obj
    expect(last?.unloggedEvents).toBe(350_000 - REJECT_LINES_PER_PEER + 10)
    expect(last?.unloggedEnvelopes).toBe(350_000 - REJECT_LINES_PER_PEER + 500_000)
    expect(l.lines.length).toBeLessThanOrEqual(REJECT_LINES_PER_PEER + 2)
  })

  it('many peers together are capped too, and bans are left to the node\'s own line', () => {
    const l = logger()
    const log = new RejectLog(l.warn, () => 0)
    for (let p = 0; p < 20_000; p++) log.rejected({ peer: `P${p}`, reason: 'bad signature or oversized payload' })
    expect(l.lines.length).toBe(REJECT_LINES_IN_ALL)
    log.rejected({ peer: 'Q', reason: 'peer banned: x', count: 0, banned: true })
    expect(l.lines.length).toBe(REJECT_LINES_IN_ALL)
  })
})
