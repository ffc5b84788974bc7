// gossipd as a library: create nodes in-process (tests, embedding) without the daemon, or add gossipd as
// a service to a libp2p node of your own (gossipd() with gossipsub(gossipOptions()) as `pubsub`).
import './polyfill.js'
export { GossipNode, createNode, type NodeOptions, type NodeParts, type NodeStatus, type PublishResult, type ReceivedMessage, type PeerInfo, type NodeEvents, type MessageSource } from './core/node.js'
export { gossipd, GossipdService, type GossipdServiceInit, type GossipdComponents } from './core/service.js'
export { gossipOptions } from './core/stack/gossip.js'
export { openStore, type StoreFactory, type StoreOpenOptions } from './core/open-store.js'
export type { SwarmHost } from './core/stack/libp2p.js'
export { Consumer, type ConsumerOptions, type StartFrom, type GapInfo } from './core/consumer.js'
export type { ForkInfo } from './core/forks.js'
export { type Envelope, envelopeId } from './core/envelope.js'
export { InvalidInputError, MAX_PAYLOAD_BYTES, TOPIC_PATTERN } from './core/limits.js'
export { StoreError, type StoredMessage } from './store/store.js'
export { type Retention, DEFAULT_RETENTION } from './store/retention.js'
