// gossipsub ships its own metrics (mesh churn, scores, RPC counts) behind a small MetricsRegister interface
// instead of depending on a metrics library; this adapts it to a prom-client registry.
import { Gauge, Histogram, type Registry } from 'prom-client'
import type { GossipsubOpts } from '@libp2p/gossipsub'

type MetricsRegister = NonNullable<GossipsubOpts['metricsRegister']>
interface Config { name: string, help: string, labelNames?: string[], buckets?: number[] }

export function gossipsubMetricsRegister (registry: Registry): MetricsRegister {
  const register = {
    gauge (cfg: Config) {
      const collectors: Array<(g: unknown) => void> = []
      const g: Gauge = new Gauge({
        name: cfg.name,
        help: cfg.help,
        labelNames: cfg.labelNames ?? [],
        registers: [registry],
        // gossipsub fills some gauges only when scraped
        collect: () => { for (const fn of collectors) fn(wrapped) },
      })
      const wrapped = Object.assign(g, { addCollect: (fn: (g: unknown) => void) => { collectors.push(fn) } })
      return wrapped
    },
    histogram (cfg: Config) {
      return new Histogram({ name: cfg.name, help: cfg.help, labelNames: cfg.labelNames ?? [], buckets: cfg.buckets, registers: [registry] })
    },
    avgMinMax (cfg: Config) {
      // one gauge with a stat="avg|min|max" label instead of three families
      const g = new Gauge({ name: cfg.name, help: cfg.help, labelNames: [...(cfg.labelNames ?? []), 'stat'], registers: [registry] })
      const put = (labels: Record<string, string | number>, values: number[]): void => {
        if (values.length === 0) { for (const stat of ['avg', 'min', 'max']) g.set({ ...labels, stat }, 0); return }
        let min = Infinity; let max = -Infinity; let sum = 0
        for (const v of values) { sum += v; if (v < min) min = v; if (v > max) max = v }
        g.set({ ...labels, stat: 'avg' }, sum / values.length)
        g.set({ ...labels, stat: 'min' }, min)
        g.set({ ...labels, stat: 'max' }, max)
      }
      return { set: (a: Record<string, string | number> | number[], b?: number[]) => { if (Array.isArray(a)) put({}, a); else put(a, b ?? []) } }
    },
  }
  return register as unknown as MetricsRegister
}
