// Defect 3 of issue 10 (terminal escape injection): the human renderings of sub, history and the REPL show
// control characters escaped; --json and --raw stay exact (the CLI half is in trust-cli.test.ts).
import { describe, it, expect } from 'vitest'
import { toMessageJson } from '../src/wire/message.js'
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
