// Deadlines that fire. `AbortSignal.any([signal, AbortSignal.timeout(ms)])` does not always: on Node 20 the
// timer holds its timeout signal only weakly and the composite does not hold its sources, so once the
// expression is evaluated nothing keeps the timeout signal alive, a garbage collection takes it, and the
// wait it bounded never ends (nodejs/node#57736). Measured here: a sync pull from a peer that never
// answered was still waiting after 45 s on a 30 s frame timeout and a 120 s pull deadline. Here the timer
// holds the controller, so the deadline fires whatever the collector does.

export interface Deadline {
  /** aborts after the time is up (a TimeoutError, as AbortSignal.timeout's) or when the parent aborts */
  signal: AbortSignal
  /** whether it was the time that ran out (not the parent) */
  readonly expired: boolean
  /** the wait is over: drop the timer and the parent's listener now */
  clear: () => void
}

export function deadline (ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController()
  let expired = false
  const onParent = (): void => { clear(); controller.abort(parent?.reason) }
  const timer = setTimeout(() => {
    expired = true
    parent?.removeEventListener('abort', onParent)
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'))
  }, ms)
  // a deadline alone never keeps the process alive (as AbortSignal.timeout)
  timer.unref()
  const clear = (): void => {
    clearTimeout(timer)
    parent?.removeEventListener('abort', onParent)
  }
  if (parent?.aborted === true) onParent()
  else parent?.addEventListener('abort', onParent, { once: true })
  return { signal: controller.signal, get expired () { return expired }, clear }
}

/** Run `f` with a deadline; it is cleared when `f` settles. */
export async function withDeadline<T> (ms: number, parent: AbortSignal | undefined, f: (d: Deadline) => Promise<T>): Promise<T> {
  const d = deadline(ms, parent)
  try { return await f(d) } finally { d.clear() }
}
