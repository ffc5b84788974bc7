// Small numeric helpers shared by the scenarios and the report.

export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function summarize (values: number[]): { n: number, p50: number, p90: number, p99: number, max: number, mean: number } {
  const s = Float64Array.from(values).sort()
  let sum = 0
  for (const v of s) sum += v
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length > 0 ? s[s.length - 1] : NaN, mean: s.length > 0 ? sum / s.length : NaN }
}

/** RSS sampled every 100 ms for the life of the process */
export class RssSampler {
  peak = process.memoryUsage.rss()
  private readonly timer: NodeJS.Timeout
  constructor (periodMs = 100) {
    this.timer = setInterval(() => this.sample(), periodMs)
    this.timer.unref()
  }

  sample (): number {
    const rss = process.memoryUsage.rss()
    if (rss > this.peak) this.peak = rss
    return rss
  }

  reset (): void { this.peak = process.memoryUsage.rss() }
  stop (): void { clearInterval(this.timer) }
}

export const MB = 1024 * 1024
