// How soon the store notices that the volume is running out of room when something else fills it. Below
// 64 MiB free it keeps its WAL small (space.ts), so that a checkpoint still fits once the disk is full; on
// a roomy volume it looked at free space only after writing a quarter of the room above 64 MiB itself, so
// another process filling the disk went unnoticed until the minute's maintenance pass, or the full disk.
import { it, expect } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpaceKeeper } from '../src/store/space.js'
import { describeAsRoot, withTmpfs } from './helpers.js'

describeAsRoot('store: free space taken by another process (needs root for a 100 MiB tmpfs)', 'mount a tmpfs to fill', () => {
  it('is noticed at the first commit a second later, not after a quarter of the room was written by us', async () => {
    await withTmpfs('100m', async mnt => {
      const told: boolean[] = []
      const keeper = new SpaceKeeper(mnt, 256 * 1024, () => {}, tight => told.push(tight))
      expect(keeper.tight).toBe(false)
      // another process takes 60 MiB: 40 MiB are left, under the 64 MiB at which the WAL is kept small
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(60 * 1024 * 1024))
      await sleep(1_100)
      keeper.wrote(1024)
      expect(told).toEqual([true])
      expect(keeper.tight).toBe(true)
    })
  })
})
