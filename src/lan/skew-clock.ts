// Preloaded into a daemon (NODE_OPTIONS=--import) to run it with a wall clock GOSSIPD_LAN_SKEW_MS off:
// the system clock is shared by every namespace, so the skew fault moves Date.now() and `new Date()` of
// one process instead. Timers and performance.now() are untouched (they are monotonic anyway).
const skew = Number(process.env.GOSSIPD_LAN_SKEW_MS ?? 0)
if (Number.isFinite(skew) && skew !== 0) {
  const RealDate = Date
  class SkewedDate extends RealDate {
    constructor (...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + skew)
      else super(...(args as [string | number | Date]))
    }

    static override now (): number { return RealDate.now() + skew }
  }
  globalThis.Date = SkewedDate as DateConstructor
}
export {}
