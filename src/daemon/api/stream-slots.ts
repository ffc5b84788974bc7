// One per-daemon limit on open long-lived responses (maxStreams): topic streams (/v1/topics/:topic/stream),
// the log feed (/v1/logs) and the swarm page's feed (/ui/events) all take a slot here before they start,
// and give it back when they end. Each holds buffers and timers for as long as the client stays.
import { ApiError } from './errors.js'
import { ERROR_CODES } from '../../wire/errors.js'

export class StreamSlots {
  private used = 0

  constructor (readonly max: number) {}

  get open (): number { return this.used }

  /** Take a slot, or throw 503 TOO_MANY_STREAMS (Retry-After: 5). The returned release may be called more than once. */
  take (): () => void {
    if (this.used >= this.max) {
      throw new ApiError(503, ERROR_CODES.TOO_MANY_STREAMS, `this daemon already serves ${this.used} streams (the limit is ${this.max}, shared by topic streams, /v1/logs and /ui/events); close one or retry later`, { 'retry-after': '5' })
    }
    this.used++
    let released = false
    return () => {
      if (released) return
      released = true
      this.used--
    }
  }
}
