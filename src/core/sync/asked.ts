// What a server answering a pull had reason to send: messages of a topic we asked about that our request
// did not list as held. An honest server diffs against that list, so it never sends a message we listed;
// one that does is resending what we told it we have, which keeps a pull (one of a few slots) busy and is
// not progress (protocol.ts, Progress). Nor is a message it already sent in this pull.
import { RangeSet, type Range } from '../../store/ranges.js'
import type { TopicWant } from './protocol.js'

export type Asked = (topic: string, origin: string, seq: number) => boolean

/**
 * What one request asked of a server, built once per pull from its `want`: the topics asked about, the
 * origins listed under each (floors matter only for those, protocol.ts), and `asked`, whether a message is
 * one the server had reason to send. `unlisted`: whether the server had reason to send an origin of an
 * asked topic that the request did not list (one we hold nothing of, or past a truncated list). In 1.2.0,
 * origins of buckets the server's own digest answer said agree are not listed, and an honest server does
 * not answer for them (serveDigest): counted, a server resending what we hold of them kept a pull busy to
 * its deadline.
 */
export class RequestIndex {
  /** per asked topic, per origin: what the request listed as held (listed false: an origin it did not list,
   * remembered only for what this pull already counted) */
  private readonly topics = new Map<string, Map<string, { low: number, ranges: Range[], set?: RangeSet, listed: boolean }>>()

  /** topics whose want asked for the listed origins only (a topic at its origin limit): others are not asked for */
  private readonly listedOnly = new Set<string>()

  constructor (want: TopicWant[], private readonly unlisted: (topic: string, origin: string) => boolean = () => true) {
    for (const w of want) {
      this.topics.set(w.topic, new Map(w.origins.map(o => [o.origin, { low: o.low, ranges: o.ranges, listed: true }])))
      if (w.listed === true) this.listedOnly.add(w.topic)
    }
  }

  /** a topic the request asked about */
  asksTopic (topic: string): boolean { return this.topics.has(topic) }

  /** an origin the request listed under its topic */
  lists (topic: string, origin: string): boolean { return this.topics.get(topic)?.get(origin)?.listed === true }

  readonly asked: Asked = (topic, origin, seq) => {
    const origins = this.topics.get(topic)
    if (origins == null) return false
    let o = origins.get(origin)
    if (o == null) {
      if (this.listedOnly.has(topic) || !this.unlisted(topic, origin)) return false
      o = { low: 0, ranges: [], listed: false }
      origins.set(origin, o)
    }
    if (seq <= o.low) return false
    // built once per listed origin that a batch names, not for every origin of the request
    o.set ??= RangeSet.from(o.ranges)
    if (o.set.has(seq)) return false
    // once per pull: an honest server sends each message once, and one resending what it already sent
    // (an origin we listed nothing of, first stored by this very pull) kept the pull busy to its deadline
    o.set.add(seq)
    return true
  }
}
