// mkdir -p without Node's recursive mkdir: on Node 20, mkdirSync(dir, { recursive: true }) never returns
// for a path under /proc (it retries ENOENT forever, at full CPU, deaf to SIGTERM), so a mistyped
// `--data /proc/...` hung the daemon. Each missing level is made on its own, and the first failure throws.
import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

export function makeDir (dir: string, mode?: number): void {
  const missing: string[] = []
  for (let p = resolve(dir); !exists(p); p = dirname(p)) {
    missing.push(p)
    if (dirname(p) === p) break
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}

function exists (p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}
