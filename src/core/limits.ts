// Input limits shared by the core, the control API and the CLI. The README lists them.

/** topic names: letters, digits and . _ - / ; 1 to 128 characters; must not start with '.' or '/' */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._\-/]{0,127}$/
export const MAX_PAYLOAD_BYTES = 1024 * 1024

export class InvalidInputError extends Error {
  override name = 'InvalidInputError'
  constructor (message: string, readonly code: string) { super(message) }
}

export function checkTopic (topic: unknown): string {
  if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) {
    throw new InvalidInputError(`invalid topic name ${JSON.stringify(topic)}: use 1-128 characters of letters, digits and . _ - / (not starting with . or /)`, 'BAD_TOPIC')
  }
  return topic
}

export function checkPayload (payload: Uint8Array, max = MAX_PAYLOAD_BYTES): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new InvalidInputError('payload must be bytes', 'BAD_PAYLOAD')
  if (payload.byteLength > max) {
    throw new InvalidInputError(`payload is ${payload.byteLength} bytes; the limit is ${max}`, 'PAYLOAD_TOO_LARGE')
  }
  return payload
}
