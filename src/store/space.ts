// Room to recover on a full disk. A reserve file of a few hundred KiB is kept in the data dir; when a write
// fails for space it is deleted (and the WAL checkpointed and truncated), so acks and messages received
// from peers can still be written, while own publishes are refused until the reserve can be taken back.
//
// A checkpoint needs room itself: it copies the WAL's new pages into the database, which grows by up to
// the WAL's size before the WAL can be truncated. At its normal size (~4 MiB inline, up to 16 MiB under
// bulk writes) the WAL outgrows the reserve, so a volume filled up with it stayed full (measured: a 3.9 MB
// WAL on a 4 MiB tmpfs, the checkpoint on DISK_FULL failing for space). So while the volume has less than
// TIGHT_BELOW_BYTES free the store is told to keep the WAL small (`tight`), within what the reserve absorbs.
import { writeFileSync, unlinkSync, statSync, statfsSync } from 'node:fs'
import { join } from 'node:path'

export const RESERVE_FILE = 'reserve.bin'
/** free space under which the WAL is kept small, and over which it may grow again */
export const TIGHT_BELOW_BYTES = 64 * 1024 * 1024
export const TIGHT_UNTIL_BYTES = 2 * TIGHT_BELOW_BYTES
/** what one commit adds to the WAL besides its rows: a few index and table pages (measured ~5 of 4 KiB) */
const COMMIT_WAL_BYTES = 32 * 1024
/** free space is looked at after a commit at least this often: other processes fill disks too */
const LOOK_EVERY_MS = 1_000

export class SpaceKeeper {
  private readonly path: string
  private isLow = false
  private isTight = false
  /** estimated WAL bytes written since free space was last looked at, and how many may be before the next look */
  private written = 0
  private nextLook = 0
  /** when free space was last looked at (monotonic ms) */
  private lookedAt = 0

  /**
   * checkpoint folds the WAL into the database and truncates it; onTight is told when the WAL must be
   * kept small (true) or may grow again (false)
   */
  constructor (private readonly dataDir: string, private readonly bytes: number, private readonly checkpoint: () => void, private readonly onTight: (tight: boolean) => void = () => {}) {
    this.path = join(dataDir, RESERVE_FILE)
    if (bytes > 0 && !this.fill()) this.isLow = true
    // the caller reads the first state from `tight`; onTight tells changes
    this.look(false)
  }

  /** the reserve is given up: the disk was full */
  get low (): boolean { return this.isLow }

  /** the volume is short of space: the WAL is to be kept small */
  get tight (): boolean { return this.isTight }

  /**
   * After a commit of `bytes` of rows. Free space is looked at (statfs, ~2 µs) once a quarter of the room
   * above TIGHT_BELOW_BYTES may have been written by us, or a second after the last look, whichever comes
   * first (another process may be filling the volume); when tight, every commit.
   */
  wrote (bytes: number): void {
    this.written += bytes + COMMIT_WAL_BYTES
    if (this.written >= this.nextLook || performance.now() - this.lookedAt >= LOOK_EVERY_MS) this.look()
  }

  /** A write failed for space: give up the reserve and shrink the WAL. */
  exhausted (): void {
    if (this.bytes > 0) {
      try { unlinkSync(this.path) } catch { /* already gone */ }
      this.isLow = true
    }
    this.setTight(true)
    this.checkpoint()
  }

  /** Take the reserve back once there is room for it twice over; true when not low (any more). */
  recover (): boolean {
    this.look()
    if (!this.isLow) return true
    const free = this.free()
    if (free == null || free < 2 * this.bytes) return false
    if (this.fill()) this.isLow = false
    return !this.isLow
  }

  private look (notify = true): void {
    this.written = 0
    this.lookedAt = performance.now()
    const free = this.free()
    if (free == null) { this.nextLook = TIGHT_BELOW_BYTES / 4; return }
    this.setTight(free < (this.isTight ? TIGHT_UNTIL_BYTES : TIGHT_BELOW_BYTES), notify)
    this.nextLook = this.isTight ? 0 : (free - TIGHT_BELOW_BYTES) / 4
  }

  private setTight (tight: boolean, notify = true): void {
    if (tight === this.isTight) return
    this.isTight = tight
    if (notify) this.onTight(tight)
  }

  private free (): number | undefined {
    try {
      const s = statfsSync(this.dataDir)
      return s.bavail * s.bsize
    } catch {
      return undefined
    }
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
