// What every command file gets: the runner that turns an action into an exit code, and argument parsers.
import type { GlobalOpts } from './connect.js'
import { UsageError } from './errors.js'

/** Wraps an action: it gets the global options first; its result (or failure) becomes the exit code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes each verb its own argument list
export type Runner = (fn: (g: GlobalOpts, ...args: any[]) => Promise<number | void>) => (...args: any[]) => Promise<void>

/** repeatable option */
export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v]

export const int = (name: string) => (v: string): number => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(v)}`)
  return Number(v)
}

/** a whole number >= min */
export const intAtLeast = (name: string, min: number) => (v: string): number => {
  const n = int(name)(v)
  if (n < min) throw new UsageError(`${name} must be at least ${min}, got ${JSON.stringify(v)}`)
  return n
}

/** a whole number from min to max (the daemon's bounds, so the CLI says which option is wrong: exit 2, not the daemon's 400) */
export const intBetween = (name: string, min: number, max: number) => (v: string): number => {
  const n = intAtLeast(name, min)(v)
  if (n > max) throw new UsageError(`${name} must be at most ${max}, got ${JSON.stringify(v)}`)
  return n
}

/** a number of seconds like 2 or 0.5, at least min */
export const seconds = (name: string, min: number) => (v: string): number => {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v)) throw new UsageError(`${name} must be a number of seconds like 2 or 0.5, got ${JSON.stringify(v)}`)
  const n = Number(v)
  if (n < min) throw new UsageError(`${name} must be at least ${min} seconds, got ${JSON.stringify(v)}`)
  return n
}
