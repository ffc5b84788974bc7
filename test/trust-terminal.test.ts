// Defect 3 of issue 10 (terminal escape injection): the human renderings of sub, history and the REPL show
// control characters escaped; --json and --raw stay exact (the CLI half is in trust-cli.test.ts).
import { describe, it, expect } from 'vitest'
import { toMessageJson } from '../src/wire/message.js'
import { readFileSync } from 'node:fs'
import { formatMessage, messageLine, terminalSafe } from '../src/wire/format.js'

const hostile = '\u001b]0;pwned\u0007\u001b[31mred\r\n12:00:00 …AAAAAAAA#9: forged line\u009b2J\u202eevil'
// eslint-disable-next-line no-control-regex -- looking for control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/

describe('terminal escape injection', () => {
  it('human lines (CLI sub/history, REPL) carry no control characters, and show what was there', () => {
    const m = toMessageJson({ offset: 1, topic: 't', origin: '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', seq: 1, ts: Date.now(), payload: new TextEncoder().encode(hostile) }, 'x')
    for (const line of [messageLine(m, true), messageLine(m, false), formatMessage(m), formatMessage(m, false)]) {
      expect(line).not.toMatch(CONTROL)
      expect(line).toContain('\\x1b]0;pwned\\x07')
      expect(line).toContain('\\x0d\\x0a12:00:00')
      expect(line.split('\n')).toHaveLength(1)
    }
    expect(terminalSafe('plain text, ünïcödé ✓')).toBe('plain text, ünïcödé ✓')
  })
})

describe('the swarm page\'s twin of terminalSafe (src/web/app.js is plain browser JavaScript: it cannot import it)', () => {
  it('escapes exactly what the CLI escapes, the same way, over the first 0x3000 code points', () => {
    const app = readFileSync(new URL('../src/web/app.js', import.meta.url), 'utf8')
    const from = app.indexOf('const UNSAFE')
    const to = app.indexOf('\n})\n', from)
    expect(from).toBeGreaterThan(0)
    expect(to).toBeGreaterThan(from)
    const visible = new Function(`${app.slice(from, to + 3)}; return visible`)() as (s: string) => string
    for (let c = 0; c < 0x3000; c++) {
      const s = `a${String.fromCharCode(c)}b`
      if (visible(s) !== terminalSafe(s)) expect.fail(`U+${c.toString(16)}: page ${JSON.stringify(visible(s))}, CLI ${JSON.stringify(terminalSafe(s))}`)
    }
  })
})

describe('gossipd monitor', () => {
  it('a log line quoting a peer-chosen value (an mDNS-announced address) stays one line, with no bidi override', async () => {
    const { formatLogLine } = await import('../src/cli/commands/monitor.js')
    const addr = '/dns4/x\n12:00:00.000 WARN  peer banned  peer=12D3KooWHonestPeer reason=forged\u202e/tcp/1'
    const line = formatLogLine(JSON.stringify({ level: 20, time: Date.now(), msg: 'discovered peer not reachable', err: `getaddrinfo EINVAL ${addr}` }))
    expect(line.split('\n')).toHaveLength(1)
    expect(line).not.toMatch(CONTROL)
    expect(line).toContain('\\x0a12:00:00.000 WARN')
    // not JSON: shown as it came, made safe the same way
    expect(formatLogLine('raw\r\nline\u202e').split('\n')).toHaveLength(1)
  })
})
