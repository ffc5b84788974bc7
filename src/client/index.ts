// The `gossipd/client` package entry: the client and the wire types its answers use.
export * from './client.js'
export { decodePayload, type MessageJson, type PayloadEncoding } from '../wire/message.js'
export type { PublishResult, PeerInfo, TopicInfo, Status, GapEvent } from '../wire/results.js'
export { ERROR_CODES, type ErrorBody, type ErrorCode } from '../wire/errors.js'
