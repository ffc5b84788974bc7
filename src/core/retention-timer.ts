// Retention runs at start and then every 30 s: topics past their message, byte or age limits drop
// their oldest messages.
import type { Store } from '../store/store.js'
import type { LogFn } from './events.js'

const RETENTION_INTERVAL_MS = 30_000

/** Enforce now and periodically; returns the function that stops it. */
export function enforceRetention (store: Store, log: LogFn): () => void {
  const timer = setInterval(() => {
    try { store.enforceAllLimits() } catch (err) { log('error', 'retention failed', { err: (err as Error).message }) }
  }, RETENTION_INTERVAL_MS)
  timer.unref()
  store.enforceAllLimits()
  return () => clearInterval(timer)
}
