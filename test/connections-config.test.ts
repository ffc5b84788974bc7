// The connection bounds in the daemon's config: defaults, each source, and the low <= high rule.
import { describe, expect, it } from 'vitest'
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
})
