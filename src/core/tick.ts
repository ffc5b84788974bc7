// Periodic work on whole ticks of the wall clock. On this VM each time an idle process wakes costs about
// 0.5 ms of CPU whatever it then does, so a node's periodic jobs (containment, keep-alive sweep, tag
// refresh, gossipsub's heartbeat) fire together at whole multiples of their period instead of at phases
// set by when each was started: one wake-up for all of them. Nodes whose clocks agree (NTP on a LAN, or
// many nodes in one process) also send their pings at the same instant, so a peer's pongs come back while
// it is awake anyway. A clock that is off only shifts the phase; it does not change the period.

/** call fn at every whole multiple of periodMs of Date.now() until the returned stop is called */
export function onWholeTicks (periodMs: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const arm = (): void => {
    // at least a quarter period away, so a late run does not fire twice in a row
    timer = setTimeout(() => {
      if (stopped) return
      try { fn() } finally { if (!stopped) arm() }
    }, toWholeTick(periodMs / 4, periodMs))
    timer.unref()
  }
  arm()
  return () => { stopped = true; clearTimeout(timer) }
}

/** delayMs, lengthened to end on the next whole multiple of periodMs: a one-shot job that runs with the periodic ones */
export function toWholeTick (delayMs: number, periodMs = 1_000): number {
  const at = Date.now() + delayMs
  return delayMs + (periodMs - (at % periodMs)) % periodMs
}
