// The topic-name rule as clients check it before a topic goes into a URL. The daemon's own check is
// src/core/limits.ts (core may not import wire); test/api-errors.test.ts keeps the two identical.
//
// Checking in the client matters beyond saving a round trip: `.` and `..` are dropped from a URL path as
// dot segments (encoded or not), so `join ..` would reach PUT /v1/ and get 404 NOT_FOUND, not BAD_TOPIC.

/** topic names: letters, digits and . _ - / ; 1 to 128 characters; must not start with '.' or '/' */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._\-/]{0,127}$/

/** undefined for a valid topic name, else the daemon's BAD_TOPIC message for it */
export function topicProblem (topic: unknown): string | undefined {
  if (typeof topic === 'string' && TOPIC_PATTERN.test(topic)) return undefined
  return `invalid topic name ${JSON.stringify(topic)}: use 1-128 characters of letters, digits and . _ - / (not starting with . or /)`
}
