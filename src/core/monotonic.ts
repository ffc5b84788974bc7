// The clock for elapsed time: rates, decay and backoffs. Date.now() is the wall clock, which NTP, an operator
// or a restored VM can step back or forward by any amount; a step back of an hour left every peer's token
// bucket an hour in debt and multiplied decaying penalty points by 2^60 (test/clock-step.test.ts).
// performance.now() only moves forward. Times shown to people (status, logs) stay on the wall clock.
export function monotonicNow (): number {
  return performance.now()
}
