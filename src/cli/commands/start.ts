// gossipd start: run the daemon in the foreground. The only command that loads the daemon (lazily, so the
// other commands never load libp2p); the flags -> config mapping is the daemon's (src/daemon/flags.ts).
import { Command, Option } from 'commander'
import { ConfigError, LOG_LEVELS } from '../../daemon/config.js'
import type { StartFlags } from '../../daemon/flags.js'
import { EXIT } from '../../wire/exit-codes.js'
import { collect } from '../command.js'
import type { GlobalOpts } from '../connect.js'
import { CliError, fail } from '../errors.js'

export function registerStart (program: Command): void {
  program.command('start')
    .description('run the daemon in the foreground (logs on stderr; SIGINT/SIGTERM stop it cleanly)')
    .option('-c, --config <file>', 'config file (JSON, comments allowed; env GOSSIPD_CONFIG)')
    .option('-l, --listen <multiaddr>', 'libp2p listen address, repeatable (env GOSSIPD_LISTEN, comma-separated; default /ip4/0.0.0.0/tcp/7421)', collect)
    .option('--mdns', 'discover peers on the LAN by mDNS (the default)')
    .option('--no-mdns', 'do not use mDNS (env GOSSIPD_MDNS=false)')
    .option('-p, --peer <multiaddr>', 'static peer /ip4/HOST/tcp/PORT/p2p/PEERID, repeatable (env GOSSIPD_PEERS)', collect)
    .option('-t, --topic <topic>', 'topic to join at start, repeatable (env GOSSIPD_TOPICS)', collect)
    .option('--retention-max-messages <n>', 'keep at most N messages per topic (default 1000000)')
    .option('--retention-max-bytes <size>', 'keep at most SIZE per topic, e.g. 512MB (default 1GiB)')
    .option('--retention-max-age <duration>', 'drop messages older than this, e.g. 7d, 12h; 0 = never (default 7d)')
    .option('--swarm-key <file>', 'private swarm: only nodes with this key file (gossipd keygen) can connect (env GOSSIPD_SWARM_KEY)')
    .option('--api-socket <path>', 'also serve the control API on this unix socket, mode 0600 (env GOSSIPD_API_SOCKET)')
    .option('--max-payload <size>', 'largest accepted payload (default 1MiB, at most 16MiB)')
    .option('--max-streams <n>', 'open event streams the API serves at once: topic streams, /v1/logs and /ui/events together (env GOSSIPD_MAX_STREAMS; default 256)')
    .option('--connections-low <n>', 'dial discovered peers only while connected to fewer than N (env GOSSIPD_CONNECTIONS_LOW; default 8)')
    .option('--connections-high <n>', 'past N connections prune the least useful ones; static peers are kept (env GOSSIPD_CONNECTIONS_HIGH; default 16)')
    .option('--metrics <host:port>', 'also serve /metrics, /healthz, /readyz here, for a Prometheus on another host (env GOSSIPD_METRICS; default off: /metrics on the API address, loopback clients only)')
    .addOption(new Option('--log-level <level>', 'log level (env GOSSIPD_LOG_LEVEL)').choices(LOG_LEVELS))
    .addHelpText('after', `
The API address is --api (default 127.0.0.1:7420; :0 picks a free port). The actual address and a
fresh bearer token are written to <data>/api.json (mode 0600), where the other commands find them.
Example: gossipd start --data /tmp/a --listen /ip4/127.0.0.1/tcp/7421 --api 127.0.0.1:7420 --no-mdns`)
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as StartFlags & GlobalOpts
      // --data and --api are the program's options, the rest start's
      const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli' || program.getOptionValueSource(k) === 'cli'
      let code: number
      try {
        const { configFromFlags } = await import('../../daemon/flags.js')
        const cfg = configFromFlags(o, given, process.env)
        const { createLogger } = await import('../../daemon/logger.js')
        const log = await createLogger(cfg.logLevel)
        const { runDaemon } = await import('../../daemon/daemon.js')
        // SIGHUP reads the same sources again
        code = await runDaemon(cfg, log, process.stdout, () => configFromFlags(o, given, process.env))
      } catch (err) {
        code = fail(err instanceof ConfigError ? new CliError(`invalid configuration: ${err.message}`, EXIT.USAGE, 'CONFIG') : err, o.json === true)
      }
      process.exit(code)
    })
}
