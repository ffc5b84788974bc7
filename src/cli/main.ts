// The gossipd command line. Process globals (argv, env, exit codes, signals) live here and in src/daemon.
// Each verb is one file in ./commands; this file sets up the program and turns results into exit codes.
import '../polyfill.js'
import { Command, CommanderError } from 'commander'
import { EXIT } from '../wire/exit-codes.js'
import { VERSION } from '../version.js'
import type { Runner } from './command.js'
import type { GlobalOpts } from './connect.js'
import { fail } from './errors.js'
import { registerStart } from './commands/start.js'
import { registerPub } from './commands/pub.js'
import { registerSub } from './commands/sub.js'
import { registerHistory } from './commands/history.js'
import { registerPeers } from './commands/peers.js'
import { registerTopics } from './commands/topics.js'
import { registerJoinLeave } from './commands/join-leave.js'
import { registerStatus } from './commands/status.js'
import { registerRepl } from './commands/repl.js'
import { registerUi } from './commands/ui.js'
import { registerMonitor } from './commands/monitor.js'
import { registerTop } from './commands/top.js'
import { registerKeygen } from './commands/keygen.js'

export function buildProgram (run: Runner): Command {
  const program = new Command('gossipd')
  // before the subcommands are added, so they inherit it: usage errors become exit code 2, not 1
  program.exitOverride()
  program
    .description('peer-to-peer gossip daemon with a durable local queue')
    .version(VERSION)
    .option('-d, --data <dir>', 'data dir of the daemon (env GOSSIPD_DATA, default ~/.gossipd)')
    .option('--api <host:port|url>', 'daemon API address (env GOSSIPD_API; clients default to the one in <data>/api.json)')
    .option('--token <token>', 'API bearer token (env GOSSIPD_TOKEN; default: from <data>/api.json)')
    .option('--json', 'machine-readable JSON output (one JSON value per line)')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Exit codes: 0 ok, 1 unexpected error, 2 usage/config error, 3 no daemon running, 4 token refused,
            5 request rejected (bad topic, too large, ...), 6 daemon busy/failing,
            10 data dir locked (start), 11 address in use (start), 130 interrupted.`)

  // registration order is the order of `gossipd --help`
  registerStart(program)
  registerPub(program, run)
  registerSub(program, run)
  registerHistory(program, run)
  registerPeers(program, run)
  registerTopics(program, run)
  registerJoinLeave(program, run)
  registerStatus(program, run)
  registerRepl(program, run)
  registerUi(program, run)
  registerMonitor(program, run)
  registerTop(program, run)
  registerKeygen(program, run)
  return program
}

export async function main (argv: string[] = process.argv): Promise<void> {
  let json = argv.includes('--json')
  const run: Runner = fn => async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command
    const g = cmd.optsWithGlobals() as GlobalOpts
    json = g.json === true
    let code: number = EXIT.OK
    try {
      code = (await fn(g, ...args.slice(0, -1))) ?? EXIT.OK
    } catch (err) {
      code = fail(err, json)
    }
    process.exitCode = code
    // streams and sockets may hold the loop open: exit once stdout is flushed
    process.stdout.write('', () => process.exit(code))
  }
  const program = buildProgram(run)
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE)
    process.exit(fail(err, json))
  }
}
