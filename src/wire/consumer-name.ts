// The consumer-name rule, shared by the daemon (the stream and ack routes' schemas) and its clients. A
// name goes into the ack URL's path, where `.` and `..` are dot segments the URL parser drops: a consumer
// named `..` could stream but every ack would reach another route. So those two are not names.

/** 1-64 letters, digits and . _ - ; not `.` or `..` (as a JSON-schema pattern string) */
export const CONSUMER_NAME_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,64}$'

const NAME = new RegExp(CONSUMER_NAME_PATTERN)

/** undefined for a valid consumer name, else why it is not one */
export function consumerNameProblem (name: unknown): string | undefined {
  if (typeof name === 'string' && NAME.test(name)) return undefined
  return `invalid consumer name ${JSON.stringify(name)}: use 1-64 characters of letters, digits and . _ - (not "." or "..")`
}
