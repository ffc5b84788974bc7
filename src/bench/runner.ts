// Runs child.ts in a separate node process with a spec, bounded in time, and returns its JSON result.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))

export interface RunOptions {
  nodeFlags: string[]
  timeoutMs: number
  label: string
  verbose?: boolean
  /** other "@@TAG <json>" lines the child prints (e.g. DONE from a throughput-procs node) */
  onTag?: (tag: string, value: unknown) => void
}

export interface RunningChild {
  proc: ChildProcess
  /** resolves with the @@READY payload (catch-up seed, latency node): JSON the caller knows the shape of */
  ready: Promise<unknown>
  /** resolves with the @@RESULT payload: JSON the caller knows the shape of */
  result: Promise<unknown>
  /** close the child's stdin (the seed stops serving and exits) */
  closeStdin: () => void
}

export function startChild (spec: Record<string, unknown>, opts: RunOptions): RunningChild {
  const proc = spawn(process.execPath, [...opts.nodeFlags, CHILD, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let readyResolve!: (v: unknown) => void
  let readyReject!: (e: Error) => void
  const ready = new Promise<unknown>((resolve, reject) => { readyResolve = resolve; readyReject = reject })
  ready.catch(() => {})
  let resultValue: unknown
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      if (line.startsWith('@@READY ')) readyResolve(JSON.parse(line.slice(8)))
      else if (line.startsWith('@@RESULT ')) resultValue = JSON.parse(line.slice(9))
      else if (line.startsWith('@@') && line.includes(' ') && opts.onTag != null) opts.onTag(line.slice(2, line.indexOf(' ')), JSON.parse(line.slice(line.indexOf(' ') + 1)))
      else if (opts.verbose === true && line.length > 0) process.stderr.write(`  [${opts.label}] ${line}\n`)
    }
  })
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d
    if (err.length > 64 * 1024) err = err.slice(-32 * 1024)
    if (opts.verbose === true) process.stderr.write(d.split('\n').filter(Boolean).map(l => `  [${opts.label}] ${l}\n`).join(''))
  })
  const result = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${opts.label}: child timed out after ${opts.timeoutMs} ms`))
    }, opts.timeoutMs)
    proc.on('exit', (code, signal) => {
      clearTimeout(timer)
      const failure = new Error(`${opts.label}: child exited with ${code ?? signal}${err !== '' ? `: ${err.trim().split('\n').slice(-8).join('\n')}` : ''}`)
      readyReject(failure)
      if (code === 0 && resultValue !== undefined) resolve(resultValue)
      else reject(failure)
    })
  })
  return { proc, ready, result, closeStdin: () => proc.stdin!.end() }
}

export async function runChild (spec: Record<string, unknown>, opts: RunOptions): Promise<unknown> {
  const c = startChild(spec, opts)
  c.closeStdin()
  return await c.result
}
