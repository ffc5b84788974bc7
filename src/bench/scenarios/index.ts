// The bench's scenarios, in the order they run and print.
import type { Scenario } from '../scenario.js'
import { throughput2, throughput5 } from './throughput.js'
import { throughputProcs } from './throughput-procs.js'
import { latency } from './latency.js'
import { latencyProcs } from './latency-procs.js'
import { overload } from './overload.js'
import { catchup } from './catchup.js'
import { mdns } from './mdns.js'
import { idle } from './idle.js'
import { scale } from './scale.js'
import { mosquitto, nats } from './brokers.js'

export const SCENARIOS: Scenario[] = [throughput2, throughput5, throughputProcs, latency, latencyProcs, overload, catchup, mdns, idle, scale,
  // last: their rows put gossipd's figures of this run next to the broker's
  mosquitto, nats]
