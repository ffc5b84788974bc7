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
