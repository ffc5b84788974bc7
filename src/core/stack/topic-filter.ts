// gossipsub takes a message on any topic: one with no topic validator counts as valid, goes into the
// message cache (about five heartbeats) and the seen cache, and none of gossipd's checks see it (payload
// size, per-peer rate, penalties: they are the validators of the topics a node keeps). So a peer sending
// large messages on topics this node does not keep had about 5 s of its bandwidth held in memory, for
// free (148 MB in a review). On the libp2p nodes gossipd owns, such messages are now dropped as they are
// read, before any decoding, and counted. Subscriptions are not filtered: a peer's interest in a topic this
// node joins later must be known then. Not a penalty either: a message in flight when we leave a topic is
// honest. (A libp2p service embedding gossipd is not filtered: its application owns the other topics.)
// Installed on the instance (its handleReceivedMessage, which gossipsub calls for every message of an
// RPC), never on the class.

type HandleMessage = (from: unknown, msg: { topic?: string }) => Promise<void>

export class UnjoinedTopicFilter {
  /** messages dropped because this node does not keep their topic */
  dropped = 0
  private installed?: HandleMessage
  /** the instance's own handleReceivedMessage before ours, if it had one (else the class's is used) */
  private ownBefore?: HandleMessage

  constructor (private readonly pubsub: unknown, private readonly isJoined: (topic: string) => boolean) {}

  /** false when this gossipsub has no handleReceivedMessage to wrap (then nothing is filtered) */
  start (): boolean {
    const ps = this.pubsub as { handleReceivedMessage?: HandleMessage }
    const original = ps.handleReceivedMessage
    if (typeof original !== 'function') return false
    if (Object.prototype.hasOwnProperty.call(ps, 'handleReceivedMessage')) this.ownBefore = original
    const isJoined = this.isJoined
    const drop = (): void => { this.dropped++ }
    const installed: HandleMessage = async function (this: unknown, from, msg) {
      if (typeof msg?.topic !== 'string' || !isJoined(msg.topic)) { drop(); return }
      return await original.call(this, from, msg)
    }
    this.installed = installed
    ps.handleReceivedMessage = installed
    return true
  }

  stop (): void {
    const ps = this.pubsub as { handleReceivedMessage?: HandleMessage }
    // only our own wrapper comes off: something installed after us stays
    if (this.installed != null && ps.handleReceivedMessage === this.installed) {
      if (this.ownBefore != null) ps.handleReceivedMessage = this.ownBefore
      else delete ps.handleReceivedMessage
    }
    this.installed = undefined
  }
}
