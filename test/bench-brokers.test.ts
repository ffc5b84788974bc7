// The bench's central-broker reference rows: a missing broker binary is a clear "skipped" row (not a
// failure), and a broker that does not come up fails its start without leaving its temp dir behind.
import { describe, it, expect, afterEach } from 'vitest'
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from '../src/bench/args.js'
import { createContext } from '../src/bench/scenario.js'
import { SCENARIOS } from '../src/bench/scenarios/index.js'
import { mosquitto, nats } from '../src/bench/scenarios/brokers.js'
import { findBinary, startBroker } from '../src/bench/broker-process.js'

const savedPath = process.env.PATH
const dirs: string[] = []
afterEach(() => {
  process.env.PATH = savedPath
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function binDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'gossipd-test-bin-'))
  dirs.push(d)
  return d
}

describe('bench broker references', () => {
  it('reports skipped with the install command when the binaries are not on PATH', async () => {
    process.env.PATH = binDir()
    const ctx = createContext(parseArgs(['--only', 'mosquitto,nats'], SCENARIOS))
    for (const s of [mosquitto, nats]) {
      const rows = await s.run(ctx)
      expect(rows).toHaveLength(1)
      expect(rows[0].metric).toMatch(/^skipped: .* not found on PATH; install with apt-get install mosquitto nats-server$/)
      expect(rows[0].judged).toBeUndefined()
      expect(ctx.results[s.name]).toEqual({ skipped: rows[0].metric })
    }
  })

  it('finds an executable on the PATH given', () => {
    const d = binDir()
    writeFileSync(join(d, 'nats-server'), '#!/bin/sh\n')
    chmodSync(join(d, 'nats-server'), 0o755)
    expect(findBinary('nats-server', d)).toBe(join(d, 'nats-server'))
    expect(findBinary('mosquitto', d)).toBeNull()
  })

  it('a broker that exits at once fails its start and its temp dir is removed', async () => {
    const d = binDir()
    const fake = join(d, 'nats-server')
    writeFileSync(fake, '#!/bin/sh\necho "fake broker refuses" >&2\nexit 3\n')
    chmodSync(fake, 0o755)
    const before = readdirSync(tmpdir()).filter(n => n.startsWith('gossipd-bench-nats-'))
    await expect(startBroker('nats', fake)).rejects.toThrow(/nats did not start on 127\.0\.0\.1:\d+: fake broker refuses/)
    expect(readdirSync(tmpdir()).filter(n => n.startsWith('gossipd-bench-nats-'))).toEqual(before)
  })
})
