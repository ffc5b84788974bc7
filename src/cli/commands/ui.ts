// `gossipd ui`: print a one-time login link for the daemon's live swarm page.
import type { Command } from 'commander'
import { clientFromOptions } from '../connect.js'
import type { Runner } from '../command.js'
import { loginLink } from '../../client/observe.js'

export function registerUi (program: Command, run: Runner): void {
  program.command('ui')
    .description('print a one-time login link to the live swarm page (same address as the API)')
    .addHelpText('after', `
The link works once, within two minutes, and logs that browser in with a session cookie (HttpOnly,
SameSite=Strict); the token itself never appears in a URL. Open it on the daemon's host (or through an
SSH tunnel to the API port).`)
    .action(run(async (g) => {
      const link = await loginLink(clientFromOptions(g))
      if (g.json === true) { process.stdout.write(JSON.stringify(link) + '\n'); return }
      process.stdout.write(`Open this link in a browser (it works once, for ${Math.round(link.expiresInMs / 1000)} s):\n\n  ${link.url}\n\n`)
    }))
}
