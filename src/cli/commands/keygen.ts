// gossipd keygen [FILE]: a new swarm key for a private swarm (copy it to every node, pass --swarm-key FILE).
import type { Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
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
        // like ssh-keygen -f and openssl -out, no directories are made: a mistyped path must not leave a secret somewhere unexpected
        const code = (err as NodeJS.ErrnoException).code
        const dir = dirname(resolve(file))
        const why = code === 'EEXIST'
          ? 'it exists (a swarm key is never overwritten)'
          : code === 'ENOENT'
            ? `the directory ${dir} does not exist (keygen does not create directories: create it first, e.g. mkdir -p ${dir})`
            : code === 'ENOTDIR' ? `a part of the path ${dir} is a file, not a directory` : (err as Error).message
        throw new UsageError(`cannot write ${file}: ${why}`)
      }
      out(`wrote a swarm key to ${file}; give every node of the swarm a copy and start each with --swarm-key ${file}`)
    }))
}
