// Retention: how much of each topic the local queue keeps. Oldest messages (by arrival) go first.
export interface Retention {
  /** most messages kept per topic */
  maxMessages: number
  /** most bytes (encoded envelopes) kept per topic */
  maxBytes: number
  /** messages whose origin timestamp is older than this are deleted; 0 keeps them forever */
  maxAgeMs: number
}

export const DEFAULT_RETENTION: Retention = {
  maxMessages: 1_000_000,
  maxBytes: 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
}
