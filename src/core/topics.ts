// The topics a node keeps: remembered in the store (and rejoined after a restart), subscribed on
// gossipsub, each with the inbound validator.
import type { GossipSub } from '@libp2p/gossipsub'
import { checkTopic } from './limits.js'
import type { Store } from '../store/store.js'
import type { Retention } from '../store/retention.js'
import type { TopicValidator } from './inbound.js'

export interface TopicInfo { topic: string, messages: number, bytes: number, retention: Retention, peers: number }

export interface TopicsParts {
  store: Store
  pubsub: () => GossipSub
  validate: TopicValidator
  /** a new topic: peers may hold messages of it already */
  onJoin: (topic: string) => void
  /** before the topic's messages go (consumers of it close) */
  onLeave: (topic: string) => void
}

export class Topics {
  private readonly joined = new Set<string>()

  constructor (private readonly p: TopicsParts) {}

  has (topic: string): boolean { return this.joined.has(topic) }
  get size (): number { return this.joined.size }
  list (): string[] { return [...this.joined] }

  join (topic: string, retention?: Partial<Retention>): void {
    checkTopic(topic)
    this.p.store.addTopic(topic, retention)
    if (this.joined.has(topic)) return
    this.joined.add(topic)
    const pubsub = this.p.pubsub()
    pubsub.topicValidators.set(topic, this.p.validate)
    pubsub.subscribe(topic)
    this.p.onJoin(topic)
  }

  leave (topic: string, purge = false): void {
    checkTopic(topic)
    this.joined.delete(topic)
    const pubsub = this.p.pubsub()
    pubsub.unsubscribe(topic)
    pubsub.topicValidators.delete(topic)
    this.p.onLeave(topic)
    this.p.store.removeTopic(topic, purge)
  }

  info (): TopicInfo[] {
    const pubsub = this.p.pubsub()
    return this.p.store.topics().map(t => ({ ...t, peers: pubsub.getSubscribers(t.topic).length }))
  }

  /** Leave gossipsub (not the store) for every topic: the host outlives this node (injected, or a service). */
  detach (): void {
    const pubsub = this.p.pubsub()
    for (const t of this.joined) {
      // a stopping libp2p node may have stopped gossipsub first; then there is nothing to leave
      try { pubsub.unsubscribe(t) } catch { /* already stopped */ }
      pubsub.topicValidators.delete(t)
    }
  }
}
