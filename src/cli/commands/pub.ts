// gossipd pub TOPIC [MESSAGE]: publish one message, or each line of stdin.
import type { Command } from 'commander'
import { createInterface } from 'node:readline'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { out } from '../output.js'

async function readLines (onLine: (line: string) => Promise<void>): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    if (line === '') continue
    await onLine(line)
  }
}

export function registerPub (program: Command, run: Runner): void {
  program.command('pub')
    .description('publish a message; without MESSAGE, publishes each line of stdin as one message (empty lines are skipped)')
    .argument('<topic>', 'topic name')
    .argument('[message]', 'message text (UTF-8)')
    .option('--base64', 'MESSAGE (or each stdin line) is base64-encoded bytes')
    .option('--msg-id <id>', 'idempotency key: publishing the same key on the topic again within 2 min returns the first result instead of publishing twice (stdin: ID-1, ID-2, ... per line)')
    .action(run(async (g, topic: string, message: string | undefined, o: { base64?: boolean, msgId?: string }) => {
      const client = clientFromOptions(g)
      let line = 0
      const one = async (text: string): Promise<void> => {
        line++
        const msgId = o.msgId == null ? undefined : message != null ? o.msgId : `${o.msgId}-${line}`
        const r = await client.publish(topic, o.base64 === true ? new Uint8Array(Buffer.from(text, 'base64')) : text, { msgId })
        const notes = `${r.duplicate === true ? ' (duplicate: already published, nothing new)' : ''}${r.durable === false ? ` (warning: ${r.warning ?? 'not durable'})` : ''}`
        out(g.json === true ? JSON.stringify(r) : `published to ${r.topic}: seq ${r.seq}, offset ${r.offset}${notes}`)
      }
      if (message != null) await one(message)
      else {
        if (process.stdin.isTTY === true) process.stderr.write('reading messages from stdin, one per line (Ctrl-D to end)\n')
        await readLines(one)
      }
    }))
}
