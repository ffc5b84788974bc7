// Human output of the CLI: lines on stdout, aligned tables, sizes and durations.

import { decodePayload, type MessageJson } from '../wire/message.js'

export function out (s: string): void { process.stdout.write(s + '\n') }

/**
 * One message on stdout: 'json' and 'raw' are exact (a JSON line; the payload bytes and a newline); the
 * human line is made terminal-safe by wire/format.ts.
 */
export function printMessage (m: MessageJson, how: 'json' | 'raw' | 'human', human: () => string): void {
  if (how === 'json') out(JSON.stringify(m))
  else if (how === 'raw') process.stdout.write(Buffer.concat([decodePayload(m), Buffer.from('\n')]))
  else out(human())
}

/** columns padded to the widest cell; the last column is not padded */
export function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join('  ')).join('\n')
}

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  const u = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(1)} ${u[i]}`
}

/** the two largest units: "1d 2h", "3m 5s", "0s" */
export function duration (ms: number): string {
  const s = Math.floor(ms / 1000)
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']] as const
  const p = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`)
  return p.length > 0 ? p.slice(0, 2).join(' ') : '0s'
}
