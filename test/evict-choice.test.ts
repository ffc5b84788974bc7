// Whom the connection pruner closes past the high mark (evict.ts), on made-up candidates.
import { describe, it, expect } from 'vitest'
import { chooseVictim, ipGroup, GRACE_MS, type EvictionCandidate } from '../src/core/stack/evict.js'

const NOW = 1_000_000
type C = EvictionCandidate & { name: string }
const c = (name: string, group: string, ageMs: number, extra: Partial<EvictionCandidate> = {}): C =>
  ({ name, group, openedAt: NOW - ageMs, value: 50, useful: false, ...extra })
const pick = (cs: C[]): string | undefined => chooseVictim(cs, NOW)?.name

describe('eviction choice', () => {
  it('takes from the IP group holding the most connections, its youngest first, not the lone newcomer', () => {
    const crowd = [c('a1', '10.0.0.2', 60_000), c('a2', '10.0.0.2', 50_000), c('a3', '10.0.0.2', 40_000)]
    expect(pick([...crowd, c('honest', '10.0.0.7', 90_000), c('new', '10.0.0.9', 100)])).toBe('a3')
  })

  it('leaves connections in their grace period alone while any other is a candidate', () => {
    expect(pick([c('old', '10.0.0.5', GRACE_MS), c('n1', '10.0.0.2', 10), c('n2', '10.0.0.2', 20)])).toBe('old')
    // all new: the group rule still spares the lone newcomer
    expect(pick([c('n1', '10.0.0.2', 10), c('n2', '10.0.0.2', 20), c('new', '10.0.0.9', 5)])).toBe('n1')
  })

  it('protects peers that recently delivered messages first-seen by us, unless all did', () => {
    const relays = [c('r1', '10.0.0.2', 60_000, { useful: true }), c('r2', '10.0.0.2', 50_000, { useful: true })]
    expect(pick([...relays, c('idle', '10.0.0.3', 60_000)])).toBe('idle')
    // a useful relay outranks even a connection in its grace period
    expect(pick([...relays, c('new', '10.0.0.9', 10)])).toBe('new')
    expect(pick(relays)).toBe('r2')
  })

  it('in one group (everyone on loopback): the lowest-valued first, then the youngest', () => {
    expect(pick([c('mesh', 'loopback', 60_000, { value: 150 }), c('sub', 'loopback', 40_000), c('sub-old', 'loopback', 70_000)])).toBe('sub')
    expect(pick([c('x', 'loopback', 60_000, { value: 150 }), c('y', 'loopback', 40_000, { value: 150 })])).toBe('y')
  })

  it('on a tie of group sizes, the group with the youngest connection', () => {
    expect(pick([c('a', '10.0.0.2', 60_000), c('b', '10.0.0.3', 40_000)])).toBe('b')
  })

  it('nothing to choose from', () => {
    expect(chooseVictim([], NOW)).toBeUndefined()
  })

  it('groups source addresses: loopback as one, IPv4 by address, IPv6 by /64', () => {
    expect(ipGroup('/ip4/127.0.0.1/tcp/1')).toBe(ipGroup('/ip4/127.0.0.2/tcp/2'))
    expect(ipGroup('/ip6/::1/tcp/1')).toBe('loopback')
    expect(ipGroup('/ip4/10.0.0.2/tcp/1')).not.toBe(ipGroup('/ip4/10.0.0.3/tcp/1'))
    expect(ipGroup('/ip6/fd00:1:2:3::a/tcp/1')).toBe(ipGroup('/ip6/fd00:1:2:3:ffff:1:2:3/tcp/9'))
    expect(ipGroup('/ip6/fd00:1:2:3::a/tcp/1')).not.toBe(ipGroup('/ip6/fd00:1:2:4::a/tcp/1'))
  })
})
