// gossipd repl: the interactive shell (src/repl), after checking that the daemon answers.
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { defaultDataDir } from '../../wire/api-file.js'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'

export function registerRepl (program: Command, run: Runner): void {
  program.command('repl')
    .description('interactive shell: pub, sub, history, peers, ... with live messages')
    .action(run(async (g) => {
      const client = clientFromOptions(g)
      await client.status()
      const { runRepl } = await import('../../repl/repl.js')
      const dataDir = g.data ?? defaultDataDir(process.env)
      const historyFile = existsSync(dataDir) ? join(dataDir, 'repl_history') : undefined
      // after a daemon restart, api.json holds its new port and token
      await runRepl({ client, input: process.stdin, output: process.stdout, historyFile, reconnect: () => clientFromOptions(g) })
    }))
}
