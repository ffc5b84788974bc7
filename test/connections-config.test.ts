// The connection bounds in the daemon's config: defaults, each source, and the low <= high rule.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig, ConfigError } from '../src/daemon/config.js'
import { rawConfigFromFlags } from '../src/daemon/flags.js'

describe('connection bounds config', () => {
  it('defaults to low 8 / high 16, independent of anything else', () => {
    expect(resolveConfig({ env: {} }).connections).toEqual({ low: 8, high: 16 })
  })

  it('takes flags over the environment', () => {
    const flags = rawConfigFromFlags({ connectionsLow: '3', connectionsHigh: '5' }, f => f === 'connectionsLow' || f === 'connectionsHigh')
    expect(resolveConfig({ flags, env: { GOSSIPD_CONNECTIONS_LOW: '4', GOSSIPD_CONNECTIONS_HIGH: '40' } }).connections).toEqual({ low: 3, high: 5 })
    expect(resolveConfig({ env: { GOSSIPD_CONNECTIONS_LOW: '4', GOSSIPD_CONNECTIONS_HIGH: '40' } }).connections).toEqual({ low: 4, high: 40 })
  })

  it('refuses a high mark below the low mark, and non-positive values, naming the key', () => {
    expect(() => resolveConfig({ env: { GOSSIPD_CONNECTIONS_LOW: '10', GOSSIPD_CONNECTIONS_HIGH: '5' } })).toThrow(/GOSSIPD_CONNECTIONS_HIGH: the high mark \(5\) must be at least the low mark \(10\)/)
    expect(() => resolveConfig({ env: { GOSSIPD_CONNECTIONS_LOW: '0' } })).toThrow(ConfigError)
    expect(() => resolveConfig({ env: { GOSSIPD_CONNECTIONS_HIGH: 'many' } })).toThrow(/GOSSIPD_CONNECTIONS_HIGH: must be a whole number >= 1/)
  })

  it('low and high from different sources: the error names both; the file\'s own pair is checked even when one is overridden', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipd-conn-'))
    try {
      const low50 = join(dir, 'low.json')
      writeFileSync(low50, '{"connectionsLow": 50}')
      expect(() => resolveConfig({ file: low50, env: { GOSSIPD_CONNECTIONS_HIGH: '10' } })).toThrow(`GOSSIPD_CONNECTIONS_HIGH: the high mark (10) must be at least the low mark (50) (low from ${low50}: connectionsLow, high from GOSSIPD_CONNECTIONS_HIGH)`)
      const pair = join(dir, 'pair.json')
      writeFileSync(pair, '{"connectionsLow": 50, "connectionsHigh": 10}')
      expect(() => resolveConfig({ file: pair, env: { GOSSIPD_CONNECTIONS_HIGH: '100' } })).toThrow(`${pair}: connectionsHigh: the high mark (10) must be at least the low mark (50)`)
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})
