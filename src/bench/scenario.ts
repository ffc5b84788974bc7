// What a bench scenario is (a descriptor in src/bench/scenarios/, listed in scenarios/index.ts) and the
// context main.ts hands to each: the options, the JSON results, and running each side in a child process.
import type { Options } from './args.js'
import type { Impl } from './cluster.js'
import { runChild } from './runner.js'
import type { ScenarioRow } from './table.js'

export interface BenchContext {
  readonly o: Options
  /** the JSON report's results, by key */
  readonly results: Record<string, unknown>
  /** Run once per bench and share: the first call runs `fn`, later ones get its promise (e.g. the raw capacity overload derives its rate from). */
  once: <T>(key: string, fn: () => Promise<T>) => Promise<T>
}

export interface Scenario {
  /** what --only selects */
  name: string
  /** one line for --help */
  title: string
  /** false: left out of --quick unless --only names it (default true) */
  quick?: boolean
  /** Run the scenario, record its results, return its table rows (none when it does not apply, e.g. --side raw). */
  run: (ctx: BenchContext) => Promise<ScenarioRow[]>
}

/** Whether the options select a scenario: --only decides when given, else --quick leaves out the slow ones. */
export function selected (s: Scenario, o: Options): boolean {
  if (o.only != null) return o.only.has(s.name)
  return !o.quick || s.quick !== false
}

export function createContext (o: Options): BenchContext {
  const memo = new Map<string, Promise<unknown>>()
  return {
    o,
    results: {},
    once: async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
      if (!memo.has(key)) memo.set(key, fn())
      return await (memo.get(key) as Promise<T>)
    },
  }
}

/** the result of one side, or { error } when that side failed */
export type SideResults<T> = Partial<Record<Impl, T>>

/** Run one scenario for each side, with progress on stderr; a failed side is recorded as { error }. */
export async function eachSide<T> (o: Options, label: string, run: (impl: Impl) => Promise<T>): Promise<SideResults<T>> {
  const out: Partial<Record<Impl, T | { error: string }>> = {}
  for (const impl of o.sides) {
    process.stderr.write(`  ${label} [${impl}] ...`)
    const t = Date.now()
    try {
      out[impl] = await run(impl)
      process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
    } catch (err) {
      process.stderr.write(` FAILED: ${(err as Error).message}\n`)
      out[impl] = { error: (err as Error).message }
    }
  }
  // a failed side reads as missing figures (n/a) wherever T's fields are looked up
  return out as SideResults<T>
}

/** eachSide with each side in its own child process (child.ts) */
export async function sides<T> (o: Options, label: string, timeoutMs: number, spec: (impl: Impl) => Record<string, unknown>): Promise<SideResults<T>> {
  return await eachSide<T>(o, label, async impl => await runChild(spec(impl), { nodeFlags: o.nodeFlags, timeoutMs, label: `${label}/${impl}`, verbose: o.verbose }) as T)
}
