// Process exit codes of every gossipd command (the README lists them).
export const EXIT = {
  /** success (for `start`: the daemon shut down cleanly after SIGINT/SIGTERM) */
  OK: 0,
  /** unexpected error */
  ERROR: 1,
  /** bad usage or invalid configuration (the message names the flag, variable or key) */
  USAGE: 2,
  /** no daemon reachable at the API address (not running, or wrong --data/--api) */
  NO_DAEMON: 3,
  /** the daemon refused the credentials (401/403): wrong or stale token */
  AUTH: 4,
  /** the daemon rejected the request (400/404/409/413): bad topic, payload too large, ... */
  REJECTED: 5,
  /** the daemon is busy or failing (503/5xx); retry later */
  UNAVAILABLE: 6,
  /** start: the data dir is locked by another running gossipd */
  DATA_DIR_LOCKED: 10,
  /** start: a listen or API address is in use or cannot be bound */
  ADDRESS_IN_USE: 11,
  /** interrupted by a second SIGINT/SIGTERM during shutdown */
  INTERRUPTED: 130,
} as const
