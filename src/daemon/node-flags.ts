import { setFlagsFromString } from 'node:v8'

// V8 flags for the daemon's node process, given by every launcher gossipd ships (the bin's shebang, the
// systemd unit, the Dockerfile through the bin, `npm start`, and the bench and LAN tools that spawn daemons).
// - V8 grows the young generation up to 16 MB per semi-space after the start-up burst of allocation and never
//   gives it back: a third of an idle daemon's private memory. Capped at 2 MB: an idle daemon's RSS 101 -> 83 MB
//   (private 52 -> 34 MB); the 5-node throughput bench moved within its run-to-run noise (1,137-1,500 msg/s vs
//   1,243-1,655). This one cannot be set from inside a running process (v8.setFlagsFromString is too late).
// - TurboFan optimizes whatever start-up runs hot once (key loading, module init, SQLite open, the first dials),
//   and its compile memory (on the compiler thread's own malloc arena) and code stay resident: a lone idle
//   daemon's RSS was 83-90 MB, 79 MB with an interrupt budget 15x the default during start-up (a small hot
//   function then took ~1.7x more calls to be optimized), 80-81 MB with optimization on the main thread only.
//   endStartupTiering() puts V8's default back once the daemon has settled, so code that is hot for real (a
//   message flood) is optimized as before.
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--interrupt-budget=1000000']

/** V8 11.3's default interrupt budget (node 20) */
const DEFAULT_INTERRUPT_BUDGET = 67_584

/** how long after the daemon is ready start-up is taken to be over (its first dials, identify, mesh) */
export const STARTUP_SETTLE_MS = 30_000

export function endStartupTiering (): void {
  setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`)
}
