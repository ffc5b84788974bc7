// The bench's scenarios, in the order they run and print.
import type { Scenario } from '../scenario.js'
import { throughput2, throughput5 } from './throughput.js'
import { latency } from './latency.js'
import { latencyProcs } from './latency-procs.js'
import { overload } from './overload.js'
import { catchup } from './catchup.js'
import { mdns } from './mdns.js'
import { idle } from './idle.js'
import { mosquitto } from './mosquitto.js'

export const SCENARIOS: Scenario[] = [throughput2, throughput5, latency, latencyProcs, overload, catchup, mdns, idle, mosquitto]
