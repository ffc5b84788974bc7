// gossipd as a library: create nodes in-process (tests, embedding) without the daemon.
import './polyfill.js'
export { GossipNode, createNode, type NodeOptions, type NodeStatus, type PublishResult, type ReceivedMessage, type PeerInfo, type NodeEvents } from './core/node.js'
export { Consumer, type ConsumerOptions, type StartFrom, type GapInfo } from './core/consumer.js'
export { type Envelope, envelopeId } from './core/envelope.js'
export { InvalidInputError, MAX_PAYLOAD_BYTES, TOPIC_PATTERN } from './core/limits.js'
export { StoreError, type StoredMessage } from './store/store.js'
export { type Retention, DEFAULT_RETENTION } from './store/retention.js'
