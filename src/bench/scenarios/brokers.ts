// Central-broker reference rows: mosquitto (MQTT QoS 1) and NATS JetStream (file storage), each started
// by the bench on 127.0.0.1 (broker-process.ts), with the same load as gossipd: 1 publisher and --nodes - 1
// durable subscribers, --count x --size throughput and the 200 msg/s latency load. The broker's figure
// sits in the raw/ref column, gossipd's from the same run (throughput5, throughput5-procs, latency) next
// to it. A missing binary is a "skipped" row, not a failure.
import type { BenchContext, Scenario, SideResults } from '../scenario.js'
import { runChild } from '../runner.js'
import { BROKER_BINARY, INSTALL_HINT, findBinary, withBroker } from '../broker-process.js'
import type { Broker } from '../cluster.js'
import type { ThroughputResult } from '../workloads/throughput.js'
import { noteRow, pct, ratioOf, row, type ScenarioRow } from '../table.js'

interface Latency { p50Ms?: number, p99Ms?: number, maxMs?: number, publishAckP99Ms?: number, delivered?: number, published?: number }
type Throughput = Partial<ThroughputResult>
type Failed = { error: string }

const LABEL: Record<Broker, string> = {
  mosquitto: 'mosquitto QoS 1, persistent sessions',
  nats: 'NATS JetStream, file storage, durable consumers',
}

/** One measurement in a child process against a fresh broker; a failure is recorded, not thrown. */
async function measure<T> (ctx: BenchContext, broker: Broker, bin: string, what: string, timeoutMs: number, spec: Record<string, unknown>): Promise<T | Failed> {
  const { o } = ctx
  process.stderr.write(`  ${what} [${broker}] ...`)
  const t = Date.now()
  try {
    const r = await withBroker(broker, bin, async brokerUrl =>
      await runChild({ ...spec, impl: broker, brokerUrl }, { nodeFlags: o.nodeFlags, timeoutMs, label: `${what}/${broker}`, verbose: o.verbose }))
    process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
    return r as T
  } catch (err) {
    process.stderr.write(` FAILED: ${(err as Error).message}\n`)
    return { error: (err as Error).message }
  }
}

/** gossipd's figures of this run, where the scenario ran (else undefined: n/a) */
function gossipdOf<T> (ctx: BenchContext, key: string): T | undefined {
  return (ctx.results[key] as SideResults<T> | undefined)?.gossipd
}

function brokerScenario (broker: Broker): Scenario {
  return {
    name: broker,
    title: `reference: ${LABEL[broker]} (needs ${BROKER_BINARY[broker]}; skipped when missing)`,
    run: async (ctx): Promise<ScenarioRow[]> => {
      const { o, results } = ctx
      // --side is for profiling one side: the references are neither
      if (o.sides.length < 2) return []
      const s = `reference: ${LABEL[broker]}, 1 pub, ${o.nodes - 1} subs`
      const bin = findBinary(BROKER_BINARY[broker])
      if (bin == null) {
        const why = `skipped: ${BROKER_BINARY[broker]} not found on PATH; ${INSTALL_HINT}`
        results[broker] = { skipped: why }
        return [noteRow(s, why)]
      }
      const maxSeconds = o.quick ? 30 : 120
      const thr = await measure<Throughput>(ctx, broker, bin, `throughput ${o.nodes} nodes`, (o.quick ? 60 : 240) * 1000,
        { scenario: 'throughput', nodes: o.nodes, count: o.count, size: o.size, maxSeconds, inflight: 256 })
      const lat = await measure<Latency>(ctx, broker, bin, 'latency', (o.duration + 60) * 1000,
        { scenario: 'latency', nodes: o.nodes, rate: 200, seconds: o.duration, size: o.size })
      results[broker] = { binary: bin, throughput: thr, latency: lat }
      const t = 'error' in thr ? {} : thr
      const l = 'error' in lat ? {} : lat
      const one = gossipdOf<Throughput>(ctx, `throughput_${o.nodes}`)
      const procs = (ctx.results.throughput_procs as Throughput | undefined)
      const gl = gossipdOf<Latency>(ctx, 'latency')
      const rows = [
        row(s, `msg/s to every subscriber (gossipd: ${o.nodes} nodes in one process)`, t.msgPerSec, one?.msgPerSec),
      ]
      if (procs != null) {
        // issue 13's goal: one process per node, as on a LAN, at least JetStream's durable rate
        const ratio = ratioOf(t.msgPerSec, procs.msgPerSec)
        rows.push(row(s, `msg/s to every subscriber (gossipd: ${o.nodes} processes)`, t.msgPerSec, procs.msgPerSec, 0,
          broker === 'nats' ? { text: '>= 1x NATS JetStream (5 processes)', met: ratio == null ? null : ratio >= 1 && procs.complete === true, value: ratio } : undefined))
      }
      rows.push(
        row(s, 'delivered / published % (throughput)', pct(t.delivered, t.published), pct(one?.delivered, one?.published), 1),
        row(s, 'p50 publish->consumer ms, 200 msg/s', l.p50Ms, gl?.p50Ms, 2),
        row(s, 'p99 publish->consumer ms, 200 msg/s', l.p99Ms, gl?.p99Ms, 2),
        row(s, 'delivered / published % (latency)', pct(l.delivered, l.published), pct(gl?.delivered, gl?.published), 1),
      )
      return rows
    },
  }
}

export const mosquitto = brokerScenario('mosquitto')
export const nats = brokerScenario('nats')
