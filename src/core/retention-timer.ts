// Retention runs at start and then every 30 s: topics past their message, byte or age limits drop
// their oldest messages. Each call deletes at most PRUNE_PASS_ROWS (store/retention.ts says why); while
// a call used all of it, the next one runs at once, after whatever else waits on the event loop.
import { PRUNE_PASS_ROWS, type Store } from '../store/store.js'
import type { LogFn } from './events.js'

const RETENTION_INTERVAL_MS = 30_000

/** Enforce now and periodically; returns the function that stops it. */
export function enforceRetention (store: Store, log: LogFn): () => void {
  let more: NodeJS.Immediate | undefined
  const pass = (): void => {
    more = undefined
    let pruned = 0
    try { pruned = store.enforceAllLimits() } catch (err) { log('error', 'retention failed', { err: (err as Error).message }) }
    if (pruned >= PRUNE_PASS_ROWS) more = setImmediate(pass)
  }
  const timer = setInterval(() => { if (more == null) pass() }, RETENTION_INTERVAL_MS)
  timer.unref()
  pass()
  return () => { clearInterval(timer); if (more != null) clearImmediate(more) }
}
