// Room to recover on a full disk. A reserve file of a few hundred KiB is kept in the data dir; when a write
// fails for space it is deleted (and the WAL checkpointed and truncated), so acks and messages received
// from peers can still be written, while own publishes are refused until the reserve can be taken back.
import { writeFileSync, unlinkSync, statSync, statfsSync } from 'node:fs'
import { join } from 'node:path'

export const RESERVE_FILE = 'reserve.bin'

export class SpaceKeeper {
  private readonly path: string
  private isLow = false

  /** checkpoint folds the WAL into the database and truncates it */
  constructor (private readonly dataDir: string, private readonly bytes: number, private readonly checkpoint: () => void) {
    this.path = join(dataDir, RESERVE_FILE)
    if (bytes > 0 && !this.fill()) this.isLow = true
  }

  /** the reserve is given up: the disk was full */
  get low (): boolean { return this.isLow }

  /** A write failed for space: give up the reserve and shrink the WAL. */
  exhausted (): void {
    if (this.bytes > 0) {
      try { unlinkSync(this.path) } catch { /* already gone */ }
      this.isLow = true
    }
    this.checkpoint()
  }

  /** Take the reserve back once there is room for it twice over; true when not low (any more). */
  recover (): boolean {
    if (!this.isLow) return true
    let free: number
    try {
      const s = statfsSync(this.dataDir)
      free = s.bavail * s.bsize
    } catch {
      return false
    }
    if (free < 2 * this.bytes) return false
    if (this.fill()) this.isLow = false
    return !this.isLow
  }

  private fill (): boolean {
    try {
      if (statSync(this.path).size >= this.bytes) return true
    } catch { /* not there yet */ }
    try {
      writeFileSync(this.path, Buffer.alloc(this.bytes))
      return true
    } catch {
      try { unlinkSync(this.path) } catch { /* never created */ }
      return false
    }
  }
}
