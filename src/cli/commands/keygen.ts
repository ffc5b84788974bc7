// gossipd keygen [FILE]: a new swarm key for a private swarm (copy it to every node, pass --swarm-key FILE).
import type { Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { newSwarmKey } from '../../wire/swarm-key.js'
import type { Runner } from '../command.js'
import { out } from '../output.js'
import { UsageError } from '../errors.js'

export function registerKeygen (program: Command, run: Runner): void {
  program.command('keygen')
    .description('write a new swarm key (private swarm) to FILE, mode 0600, or to stdout')
    .argument('[file]', 'where to write it; refuses to overwrite')
    .action(run(async (_g, file?: string) => {
      const key = newSwarmKey()
      if (file == null) { process.stdout.write(key); return }
      try {
        writeFileSync(file, key, { mode: 0o600, flag: 'wx' })
      } catch (err) {
        throw new UsageError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists (a swarm key is never overwritten)' : (err as Error).message}`)
      }
      out(`wrote a swarm key to ${file}; give every node of the swarm a copy and start each with --swarm-key ${file}`)
    }))
}
